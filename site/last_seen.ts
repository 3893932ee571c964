/**
 * When each client last synced, written in batches: most syncs are
 * heartbeats, and one row update per heartbeat would make the cheapest
 * request the most expensive one. The time is kept in memory and flushed
 * every few seconds (and at shutdown) in one transaction.
 *
 * @module
 */
import type { Client } from "../sync/db.ts";
import { log } from "../sync/log.ts";

export class LastSeen {
  readonly #db: Client;
  #pending = new Map<string, number>();

  constructor(db: Client) {
    this.#db = db;
  }

  /** Notes that the client synced at `at`. */
  seen(clientId: string, at = Date.now()): void {
    this.#pending.set(clientId, at);
  }

  async flush(): Promise<void> {
    if (this.#pending.size === 0) return;
    const batch = this.#pending;
    this.#pending = new Map();
    try {
      await this.#db.batch(
        [...batch].map(([clientId, at]) => ({
          sql:
            "UPDATE clients SET last_sync_at = max(coalesce(last_sync_at, 0), ?) WHERE client_id = ?",
          args: [at, clientId],
        })),
        "write",
      );
    } catch (error) {
      log.warn("could not record last sync times; will retry", { error });
      for (const [clientId, at] of batch) {
        if (!this.#pending.has(clientId)) this.#pending.set(clientId, at);
      }
    }
  }
}
