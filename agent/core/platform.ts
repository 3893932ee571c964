/**
 * What the agent's core needs from the computer it runs on, and nothing
 * else: the processes running, the version and content hash of a program,
 * the software installed and a cheap sign that it changed, and the
 * computer's facts. Each platform (Linux, Windows) builds these
 * from its own sources; the core never reads a platform file itself.
 *
 * @module
 */
import type { ClientFacts } from "../../model/client_facts.ts";
import type { InventorySource, OriginalNameReader } from "./inventory/inventory_collector.ts";
import type { ProcessInfo, ProcessSource } from "./process_source.ts";

/** The version of the installed package that owns a program file. */
export interface VersionReader {
  /** `null` when no package the platform knows owns `exe`. */
  versionOf(exe: string): Promise<string | null>;
}

/** The content hash rules match a renamed or copied program by. */
export interface ExecutableHasher {
  /** The lowercase hex sha256 of the file `process` runs; `null` if unreadable. */
  sha256(process: ProcessInfo): Promise<string | null>;
}

export interface AgentPlatform {
  processes: ProcessSource;
  versions: VersionReader;
  hasher: ExecutableHasher;
  /** Where the software inventory comes from (package managers, start menus, the registry). */
  inventorySources: InventorySource[];
  /**
   * The name a rule's `originalFileName` matches for an installed program:
   * the file behind any link on Linux, the version resource's
   * `OriginalFilename` on Windows.
   */
  originalNameOf: OriginalNameReader;
  /** Changes when installed software does; read every few seconds, so it must be cheap. */
  softwareSignature(): Promise<string>;
  /** The computer's host name, OS, architecture, time zone and agent version. */
  facts(): Promise<ClientFacts>;
  /** Lets go of what the platform holds open (the process events' socket); at stop. */
  close?(): Promise<void>;
}
