/**
 * The one place that picks the parts of the computer the agent runs on; the
 * agent's core (`core/`) is given them and never imports a platform.
 *
 * @module
 */
import type { AgentPlatform } from "./core/platform.ts";
import { linuxPlatform } from "./linux/linux_platform.ts";
import { windowsPlatform } from "./windows/windows_platform.ts";

/** This computer's processes, versions, hashes, inventory and facts. */
export function thisPlatform(): AgentPlatform {
  return Deno.build.os === "windows" ? windowsPlatform() : linuxPlatform();
}

/**
 * Where the agent keeps its database unless told: `%ProgramData%\Meter` on
 * Windows (machine-wide, as a service's data belongs), `.meter` elsewhere.
 */
export function defaultAgentDatabase(): string {
  if (Deno.build.os !== "windows") return ".meter/agent.db";
  const programData = Deno.env.get("ProgramData") ?? "C:\\ProgramData";
  return `${programData}\\Meter\\agent.db`;
}
