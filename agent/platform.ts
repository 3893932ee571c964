/**
 * The one place that picks the parts of the computer the agent runs on; the
 * agent's core (`core/`) is given them and never imports a platform.
 *
 * @module
 */
import type { AgentPlatform } from "./core/platform.ts";

/**
 * This computer's processes, versions, hashes, inventory and facts. Only
 * its own platform's modules are loaded: an agent on Linux never loads the
 * Windows bindings and the PE parser, nor the reverse.
 */
export async function thisPlatform(
  options: { processEvents?: boolean } = {},
): Promise<AgentPlatform> {
  if (Deno.build.os === "windows") {
    return (await import("./windows/windows_platform.ts")).windowsPlatform();
  }
  return (await import("./linux/linux_platform.ts")).linuxPlatform(options);
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
