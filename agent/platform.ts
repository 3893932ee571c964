/**
 * The one place that picks the parts of the computer the agent runs on; the
 * agent's core (`core/`) is given them and never imports a platform. Only
 * Linux exists yet, and it is what ran on every computer before.
 *
 * @module
 */
import type { AgentPlatform } from "./core/platform.ts";
import { linuxPlatform } from "./linux/linux_platform.ts";

/** This computer's processes, versions, hashes, inventory and facts. */
export function thisPlatform(): AgentPlatform {
  return linuxPlatform();
}
