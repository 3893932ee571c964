/**
 * The Linux parts of the agent: processes from `/proc` (user names from
 * `/etc/passwd`), versions from dpkg's database, executables hashed through
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

/** The base name of the file behind any links; `null` when the path is gone. */
export async function realFileName(path: string): Promise<string | null> {
  try {
    return baseName(await Deno.realPath(path)) || null;
  } catch {
    return null;
  }
}

export function linuxPlatform(): AgentPlatform {
  const hasher = new ExeHasher();
  return {
    processes: new LinuxProcSource({ userNames: new UserNames() }),
    versions: new PackageVersions(),
    hasher: { sha256: (process) => hasher.sha256(`/proc/${process.pid}/exe`) },
    inventorySources: defaultInventorySources(),
    originalNameOf: realFileName,
    softwareSignature: () => softwareSignature(),
    facts: collectFacts,
  };
}
