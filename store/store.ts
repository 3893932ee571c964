/**
 * The store handle: what a peer's services need to read and change its
 * stored documents and tables, and nothing of the server around them. A site
 * makes one at start-up; the rules editor, the hierarchy's documents and the
 * sync handler take it (or the part of it they use) instead of the whole
 * running site.
 *
 * @module
 */
import type { Mutex } from "../lib/mutex.ts";
import type { Client } from "./db.ts";
import type { DocCache } from "./doc_cache.ts";
import type { DocStore } from "./doc_store.ts";
import type { SyncStateStore } from "./sync_state_store.ts";

export interface Store {
  db: Client;
  docs: DocStore;
  /** Sync states, per peer and document. */
  states: SyncStateStore;
  /** Hot documents, so that a frequent sync does not load them from libSQL each time. */
  cache: DocCache;
  /** Serialises every change to stored documents. */
  lock: Mutex;
  /** The owner's code, e.g. a site's `S01`. */
  code: string;
  /** The Automerge actor of the owner's own documents. */
  actor: string;
}
