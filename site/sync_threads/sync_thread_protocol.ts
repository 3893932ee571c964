/**
 * The messages between the site's thread and a sync thread
 * (`sync_threads.ts`, `sync_worker.ts`). The site sends each batch with the
 * peer that sent it (as a `PeerSpec`: a peer's access is a function, which
 * a message cannot carry) and gets the answer or the refusal back. The
 * thread hands each group's transaction to the site's thread, which stores
 * it under its write lock on its connection, the database's one writer
 * (`store`), and names the documents it stored (`written`), so that the
 * site's own cache lets go of older versions.
 *
 * @module
 */
import type { StoredMessage, StoreMessage } from "../worker_transactions.ts";
import type { PeerSpec, SyncItem, SyncRefusalStatus } from "../../sync/mod.ts";

/** What a sync thread is set up with, in its first message. */
export interface SyncThreadSetup {
  /** The site's database file, which the thread reads on a connection of its own. */
  file: string;
  /** Its cache of hot documents: how many, and their stored bytes. */
  docCacheSize: number;
  docCacheBytes: number;
  admitOnReuseWithin: number;
  /** Batches with changes that may wait; past it a batch is answered 429. */
  maxQueued: number;
}

export type ToSyncThread =
  | { type: "setup"; setup: SyncThreadSetup }
  | {
    type: "handle";
    id: number;
    peer: PeerSpec;
    clockCorrectionMs?: number;
    items: SyncItem[];
  }
  | StoredMessage;

/** Why a batch was not handled, in a form a message carries. */
export type SyncThreadFailure =
  | { kind: "refused"; status: SyncRefusalStatus; code: string; message: string }
  | { kind: "busy"; queued: number }
  | { kind: "error"; message: string };

export type FromSyncThread =
  | { type: "handled"; id: number; items: SyncItem[] }
  | { type: "failed"; id: number; failure: SyncThreadFailure }
  | StoreMessage
  | { type: "written"; docIds: string[] };
