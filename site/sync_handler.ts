/**
 * The server side of the sync protocol: answers one batch of Automerge sync
 * messages from one peer.
 *
 * - Every item is checked before anything is applied: a document the peer may
 *   not touch, or changes to one it may only read, refuse the whole batch
 *   with 403; an item that is not an Automerge sync message refuses it with
 *   400.
 * - Heartbeats are cheap: an item without changes whose heads equal the
 *   stored heads is answered with nothing, without loading the document.
 * - The rest is applied under the site's write lock. A change made by an actor
 *   not bound to the peer refuses the batch with 403; a record that does not
 *   validate refuses it with 400. Otherwise the new document chunks, the rows
 *   they materialise and the sync states are stored in one transaction.
 *
 * @module
 */
import * as A from "@automerge/automerge";
import type { Client, InStatement } from "../sync/db.ts";
import type { DocStore } from "../sync/doc_store.ts";
import { sameHeads } from "../sync/heads.ts";
import { log } from "../sync/log.ts";
import type { Mutex } from "../sync/mutex.ts";
import type { SyncItem } from "../sync/sync_batch.ts";
import type { SyncStateStore } from "../sync/sync_state_store.ts";
import { ApiError, badRequest, forbidden } from "./api_error.ts";
import type { CachedDoc, DocCache } from "./doc_cache.ts";
import type { SyncPeer } from "./sync_peer.ts";

/** Turns the records a change added into rows; throws on invalid records. */
export type Materializer = (
  docId: string,
  doc: A.Doc<unknown>,
  before: A.Heads,
) => InStatement[];

export interface SyncHandlerOptions {
  db: Client;
  docs: DocStore;
  states: SyncStateStore;
  cache: DocCache;
  lock: Mutex;
  materialize: Materializer;
}

interface Incoming {
  item: SyncItem;
  message: A.DecodedSyncMessage;
  write: boolean;
}

export interface SyncHandled {
  items: SyncItem[];
  /** Documents whose stored version this batch changed. */
  changed: string[];
}

export class SyncHandler {
  readonly #o: SyncHandlerOptions;

  constructor(options: SyncHandlerOptions) {
    this.#o = options;
  }

  async handle(peer: SyncPeer, items: readonly SyncItem[]): Promise<SyncHandled> {
    let incoming: Incoming[];
    try {
      incoming = checkItems(peer, items);
    } catch (error) {
      logRefusal(peer, error);
      throw error;
    }
    const active: Incoming[] = [];
    for (const entry of incoming) {
      if (!(await this.#isHeartbeat(entry))) active.push(entry);
    }
    if (active.length === 0) return { items: [], changed: [] };
    return await this.#o.lock.run(() => this.#apply(peer, active));
  }

  /** Nothing to apply and nothing to tell: the peer has what we have. */
  async #isHeartbeat({ item, message }: Incoming): Promise<boolean> {
    if (message.changes.length > 0) return false;
    const info = this.#o.cache.peek(item.doc)?.info ?? await this.#o.docs.info(item.doc);
    return sameHeads(message.heads, info?.heads ?? []);
  }

  async #apply(peer: SyncPeer, active: Incoming[]): Promise<SyncHandled> {
    const { db, docs, states, cache, materialize } = this.#o;
    const syncStates = await states.load(
      peer.id,
      active.map((a) => a.item.doc),
      (docId) => peer.access(docId) === "read",
    );
    const statements: InStatement[] = [];
    const updated = new Map<string, CachedDoc>();
    const reply: SyncItem[] = [];
    try {
      for (const { item, write } of active) {
        const entry = await cache.get(item.doc) ?? { doc: A.init(), info: undefined };
        const before = A.getHeads(entry.doc);
        const [doc, received] = receiveOr400(entry.doc, syncStates.get(item.doc)!, item);
        const after = A.getHeads(doc);
        if (write && !sameHeads(before, after)) {
          checkActors(peer, item.doc, doc, before);
          statements.push(...materializeOr400(materialize, item.doc, doc, before));
          const save = docs.prepareSave(item.doc, doc, entry.info);
          statements.push(...save.statements);
          updated.set(item.doc, { doc, info: save.info });
        } else if (doc !== entry.doc) {
          updated.set(item.doc, { doc, info: entry.info });
        }
        const [state, message] = A.generateSyncMessage(doc, received);
        if (message) reply.push({ doc: item.doc, msg: message });
        statements.push(states.saveStatement(peer.id, item.doc, state));
      }
      await db.batch(statements, "write");
    } catch (error) {
      // Applying may have advanced cached handles; drop them so the next
      // request reloads what is stored.
      for (const { item } of active) cache.delete(item.doc);
      logRefusal(peer, error);
      throw error;
    }
    for (const [docId, entry] of updated) cache.set(docId, entry);
    const changed = [...updated].filter(([, e]) => e.info).map(([docId]) => docId);
    return { items: reply, changed };
  }
}

/** Refusals are logged, so an operator sees a peer that sends what it may not. */
function logRefusal(peer: SyncPeer, error: unknown): void {
  if (!(error instanceof ApiError)) return;
  log.warn("sync batch refused", { peer: peer.id, status: error.status, reason: error.message });
}

/** Access and form of every item, before anything is applied. */
function checkItems(peer: SyncPeer, items: readonly SyncItem[]): Incoming[] {
  const seen = new Set<string>();
  return items.map((item) => {
    if (seen.has(item.doc)) throw badRequest(`the batch names ${item.doc} twice`);
    seen.add(item.doc);
    const access = peer.access(item.doc);
    if (access === "none") throw forbidden(`${peer.id} may not sync ${item.doc}`, "doc_forbidden");
    let message: A.DecodedSyncMessage;
    try {
      message = A.decodeSyncMessage(item.msg);
    } catch {
      throw badRequest(
        `the message for ${item.doc} is not an Automerge sync message`,
        "bad_message",
      );
    }
    if (access === "read" && message.changes.length > 0) {
      throw forbidden(`${peer.id} may only read ${item.doc}, but sent changes to it`, "read_only");
    }
    return { item, message, write: access === "write" };
  });
}

/**
 * Applies a message; one that decoded but whose changes do not (a corrupted
 * change, a bad checksum) is the peer's error, not the site's: 400.
 */
function receiveOr400(
  doc: A.Doc<unknown>,
  state: A.SyncState,
  item: SyncItem,
): [A.Doc<unknown>, A.SyncState] {
  try {
    const [next, received] = A.receiveSyncMessage(doc, state, item.msg);
    return [next, received];
  } catch (error) {
    throw badRequest(
      `the message for ${item.doc} is not a valid Automerge sync message: ` +
        `${(error as Error).message}`,
      "bad_message",
    );
  }
}

/** Every change new to the document must come from an actor of the peer. */
function checkActors(peer: SyncPeer, docId: string, doc: A.Doc<unknown>, before: A.Heads): void {
  for (const change of A.getChangesMetaSince(doc, before)) {
    if (!peer.actors.has(change.actor)) {
      throw forbidden(
        `a change to ${docId} was made by actor ${change.actor}, which is not bound to ${peer.id}`,
        "foreign_actor",
      );
    }
  }
}

function materializeOr400(
  materialize: Materializer,
  docId: string,
  doc: A.Doc<unknown>,
  before: A.Heads,
): InStatement[] {
  try {
    return materialize(docId, doc, before);
  } catch (error) {
    if (error instanceof ApiError) throw error;
    throw badRequest(`${docId}: ${(error as Error).message}`, "invalid_record");
  }
}
