/**
 * When each client last synced, and its clock offset measured then, written
 * in batches: most syncs are
 * heartbeats, and one row update per heartbeat would make the cheapest
 * request the most expensive one. The time is kept in memory and flushed
 * every few seconds (and at shutdown) in one transaction.
 *
 * @module
 */
import type { Client } from "../../store/db.ts";
import { log } from "../../lib/log.ts";
import { lastSyncStatement } from "./clients_table.ts";

interface Seen {
  at: number;
  clockOffsetMs?: number;
}

export class LastSeen {
  readonly #db: Client;
  #pending = new Map<string, Seen>();

  constructor(db: Client) {
    this.#db = db;
  }

  /** Notes that the client synced at `at`, its clock `clockOffsetMs` behind this site's. */
  seen(clientId: string, at = Date.now(), clockOffsetMs?: number): void {
    const before = this.#pending.get(clientId);
    // A heartbeat from an older agent does not forget an offset measured earlier.
    const offset = clockOffsetMs ?? before?.clockOffsetMs;
    this.#pending.set(clientId, { at, clockOffsetMs: offset });
  }

  async flush(): Promise<void> {
    if (this.#pending.size === 0) return;
    const batch = this.#pending;
    this.#pending = new Map();
    try {
      await this.#db.batch(
        [...batch].map(([clientId, { at, clockOffsetMs }]) =>
          lastSyncStatement(clientId, at, clockOffsetMs)
        ),
        "write",
      );
    } catch (error) {
      log.warn("could not record last sync times; will retry", { error });
      for (const [clientId, seen] of batch) {
        if (!this.#pending.has(clientId)) this.#pending.set(clientId, seen);
      }
    }
  }
}
