/**
 * Persisted Automerge sync states, one per peer and document, so that a later
 * sync sends only what is new.
 *
 * Automerge persists only the shared heads of a sync state, and
 * `decodeSyncState` clears the read-only flag, so it is set again here.
 *
 * @module
 */
import * as A from "@automerge/automerge";
import type { Client, InStatement } from "./db.ts";
import { log } from "../lib/log.ts";

export const syncStateSchema = [
  `CREATE TABLE IF NOT EXISTS sync_states (
    peer TEXT NOT NULL,
    doc_id TEXT NOT NULL,
    state BLOB NOT NULL,
    PRIMARY KEY (peer, doc_id)
  )`,
] as const;

export class SyncStateStore {
  readonly #db: Client;

  constructor(db: Client) {
    this.#db = db;
  }

  /** The stored state for each requested document, or a fresh one. */
  async load(
    peer: string,
    docIds: readonly string[],
    readOnly: (docId: string) => boolean = () => false,
  ): Promise<Map<string, A.SyncState>> {
    const stored = new Map<string, Uint8Array>();
    // Chunked so that a batch of many documents stays within SQL limits.
    for (let i = 0; i < docIds.length; i += 500) {
      const part = docIds.slice(i, i + 500);
      const result = await this.#db.execute({
        sql: `SELECT doc_id, state FROM sync_states WHERE peer = ? AND doc_id IN (${
          part.map(() => "?").join(",")
        })`,
        args: [peer, ...part],
      });
      for (const row of result.rows) {
        stored.set(row.doc_id as string, new Uint8Array(row.state as ArrayBuffer));
      }
    }
    const states = new Map<string, A.SyncState>();
    for (const docId of docIds) {
      const state = decodeOrFresh(docId, stored.get(docId));
      if (readOnly(docId)) state.readOnly = true;
      states.set(docId, state);
    }
    return states;
  }

  saveStatement(peer: string, docId: string, state: A.SyncState): InStatement {
    return {
      sql: `INSERT INTO sync_states (peer, doc_id, state) VALUES (?, ?, ?)
        ON CONFLICT (peer, doc_id) DO UPDATE SET state = excluded.state`,
      args: [peer, docId, A.encodeSyncState(state)],
    };
  }

  deleteStatement(docId: string): InStatement {
    return { sql: "DELETE FROM sync_states WHERE doc_id = ?", args: [docId] };
  }
}

/**
 * A stored state that does not decode (a damaged row) is replaced by a fresh
 * one: the next sync then costs a round more, and nothing else.
 */
function decodeOrFresh(docId: string, bytes: Uint8Array | undefined): A.SyncState {
  if (!bytes) return A.initSyncState();
  try {
    return A.decodeSyncState(bytes);
  } catch (error) {
    log.warn("sync state does not decode; starting afresh", { docId, error });
    return A.initSyncState();
  }
}

/**
 * Makes a freshly decoded state assume the peer holds exactly the shared heads
 * from the last sync, so the first message already carries every change made
 * since. That turns a sync with new data into one round trip; if the peer
 * holds less (it lost data), the normal protocol recovers in the next round.
 */
export function primeSyncState(state: A.SyncState): A.SyncState {
  const primed = state as A.SyncState & {
    theirHeads: A.Heads | null;
    theirNeed: A.Heads | null;
    theirHave: { lastSync: A.Heads; bloom: Uint8Array }[] | null;
  };
  primed.theirHeads = [...state.sharedHeads];
  primed.theirNeed = [];
  primed.theirHave = [{ lastSync: [...state.sharedHeads], bloom: new Uint8Array(0) }];
  return primed;
}
