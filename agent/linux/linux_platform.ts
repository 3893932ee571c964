/**
 * The Linux parts of the agent: processes from the kernel's process events
 * and `/proc` (user names from `/etc/passwd`), versions from dpkg's database, executables hashed through
 * `/proc/PID/exe`, the inventory from dpkg, rpm, flatpak, snap and desktop
 * entries, and the mtimes of the package databases as the sign that
 * installed software changed.
 *
 * @module
 */
import { baseName } from "../../lib/base_name.ts";
import type { AgentPlatform } from "../core/platform.ts";
import { ExeHasher } from "../core/exe_hash.ts";
import { defaultInventorySources } from "./inventory/inventory_sources.ts";
import { softwareSignature } from "./inventory/software_change_watch.ts";
import { collectFacts } from "./linux_facts.ts";
import { LinuxProcSource } from "./linux_proc_source.ts";
import { PackageVersions } from "./package_version.ts";
import { UserNames } from "./user_names.ts";
import { LinuxEventSource } from "./linux_event_source.ts";
import { ProcConnectorUnavailable } from "./proc_connector.ts";
import { ProcessEvents } from "./process_events.ts";
import type { ProcessSource } from "../core/process_source.ts";
import { log } from "../../lib/log.ts";

/** The base name of the file behind any links; `null` when the path is gone. */
export async function realFileName(path: string): Promise<string | null> {
  try {
    return baseName(await Deno.realPath(path)) || null;
  } catch {
    return null;
  }
}

/**
 * The process source: the kernel's process events backed by `/proc` where
 * this agent may subscribe to them (root, or `CAP_NET_ADMIN`, outside a
 * container), else `/proc` polling; `events: false` asks for polling. The
 * log says which, and why.
 */
async function processSource(
  events: boolean,
): Promise<ProcessSource & { close?(): Promise<void> }> {
  const proc = new LinuxProcSource({ userNames: new UserNames() });
  if (!events) {
    log.info("process source: /proc polling");
    return proc;
  }
  try {
    const feed = await ProcessEvents.open();
    log.info("process source: kernel process events, with /proc scans", {
      receiveBufferBytes: feed.receiveBufferBytes,
      onlyExecAndExit: feed.filtered,
      raisedPriority: feed.raisedPriority,
    });
    return new LinuxEventSource(proc, feed);
  } catch (error) {
    if (!(error instanceof ProcConnectorUnavailable)) throw error;
    log.info("process source: /proc polling (process events unavailable)", {
      reason: error.message,
    });
    return proc;
  }
}

export async function linuxPlatform(
  { processEvents = true }: { processEvents?: boolean } = {},
): Promise<AgentPlatform> {
  const hasher = new ExeHasher();
  const processes = await processSource(processEvents);
  return {
    processes,
    close: async () => await processes.close?.(),
    versions: new PackageVersions(),
    hasher: { sha256: (process) => hasher.sha256(`/proc/${process.pid}/exe`) },
    inventorySources: defaultInventorySources(),
    originalNameOf: realFileName,
    softwareSignature: () => softwareSignature(),
    facts: collectFacts,
  };
}
