/**
 * The Windows parts of the agent: processes from the system's process list, each
 * program's version and language from its version resource, executables
 * hashed by path, the inventory from the registry's `Uninstall` keys, and
 * those keys' last writes as the sign that installed software changed.
 *
 * @module
 */
import type { AgentPlatform } from "../core/platform.ts";
import { ExeHasher } from "../core/exe_hash.ts";
import { readUninstallProducts } from "./inventory/uninstall_source.ts";
import { uninstallSignature } from "./inventory/uninstall_signature.ts";
import { ProgramResources } from "./program_resources.ts";
import { collectWindowsFacts } from "./windows_facts.ts";
import { WindowsProcessSource } from "./windows_process_source.ts";

export function windowsPlatform(): AgentPlatform {
  const hasher = new ExeHasher();
  const resources = new ProgramResources();
  return {
    processes: new WindowsProcessSource({ resources }),
    versions: { versionOf: async (exe) => (await resources.of(exe)).version },
    hasher: {
      sha256: (process) => process.exe ? hasher.sha256(process.exe) : Promise.resolve(null),
    },
    inventorySources: [{ name: "registry", read: () => readUninstallProducts() }],
    originalNameOf: async (path) => (await resources.of(path)).originalFileName,
    softwareSignature: () => uninstallSignature(),
    facts: collectWindowsFacts,
  };
}
