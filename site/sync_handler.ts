/**
 * The server side of the sync protocol: answers batches of Automerge sync
 * messages from peers.
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
 * - Group commit: batches that arrive while one is being stored wait, and are
 *   then applied one by one and stored together in one transaction. Each
 *   batch is still all or nothing (a refused one contributes no statements),
 *   and none is answered before its transaction commits.
 *
 * @module
 */
import * as A from "@automerge/automerge";
import { type ChangedKeys, changedKeysOf } from "../sync/changed_keys.ts";
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

/** Turns the records a change put or deleted into rows; throws on invalid records. */
export type Materializer = (
  docId: string,
  doc: A.Doc<unknown>,
  changed: ChangedKeys,
  before: A.Heads,
) => InStatement[];

export interface SyncHandlerOptions {
  db: Client;
  docs: DocStore;
  states: SyncStateStore;
  cache: DocCache;
  lock: Mutex;
  materialize: Materializer;
  /** The most batches stored in one transaction. */
  maxGroup?: number;
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

/** A batch waiting for its group, and what applying it produced. */
interface Pending {
  peer: SyncPeer;
  active: Incoming[];
  resolve: (handled: SyncHandled) => void;
  reject: (error: unknown) => void;
}

interface Applied {
  statements: InStatement[];
  updated: Map<string, CachedDoc>;
  reply: SyncItem[];
}

export class SyncHandler {
  readonly #o: SyncHandlerOptions;
  #queue: Pending[] = [];
  #draining = false;

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
    return await new Promise<SyncHandled>((resolve, reject) => {
      this.#queue.push({ peer, active, resolve, reject });
      if (!this.#draining) this.#drain();
    });
  }

  /** Nothing to apply and nothing to tell: the peer has what we have. */
  async #isHeartbeat({ item, message }: Incoming): Promise<boolean> {
    if (message.changes.length > 0) return false;
    const info = this.#o.cache.peek(item.doc)?.info ?? await this.#o.docs.info(item.doc);
    return sameHeads(message.heads, info?.heads ?? []);
  }

  /** Stores queued batches, a group per transaction, until none wait. */
  async #drain(): Promise<void> {
    this.#draining = true;
    try {
      while (this.#queue.length > 0) {
        // Let requests that arrived meanwhile be read first, so they join
        // this group instead of each paying for a transaction of its own.
        await new Promise((resolve) => setTimeout(resolve, 0));
        const group = this.#takeGroup();
        await this.#o.lock.run(() => this.#storeGroup(group));
      }
    } finally {
      this.#draining = false;
    }
  }

  /** The next batches, none sharing a document with another (those wait a turn). */
  #takeGroup(): Pending[] {
    const group: Pending[] = [];
    const docs = new Set<string>();
    const rest: Pending[] = [];
    for (const pending of this.#queue) {
      const ids = pending.active.map((a) => a.item.doc);
      if (group.length < (this.#o.maxGroup ?? 64) && ids.every((id) => !docs.has(id))) {
        group.push(pending);
        for (const id of ids) docs.add(id);
      } else rest.push(pending);
    }
    this.#queue = rest;
    return group;
  }

  async #storeGroup(group: Pending[]): Promise<void> {
    const { db, cache } = this.#o;
    const done: [Pending, Applied][] = [];
    for (const pending of group) {
      try {
        done.push([pending, await this.#apply(pending.peer, pending.active)]);
      } catch (error) {
        this.#forget(pending);
        logRefusal(pending.peer, error);
        pending.reject(error);
      }
    }
    try {
      if (done.length > 0) await db.batch(done.flatMap(([, a]) => a.statements), "write");
    } catch (error) {
      for (const [pending] of done) {
        this.#forget(pending);
        pending.reject(error);
      }
      return;
    }
    for (const [pending, applied] of done) {
      for (const [docId, entry] of applied.updated) cache.set(docId, entry);
      const changed = [...applied.updated].filter(([, e]) => e.info).map(([docId]) => docId);
      pending.resolve({ items: applied.reply, changed });
    }
  }

  /** Applying may have advanced cached handles: drop them, the next use reloads. */
  #forget(pending: Pending): void {
    for (const { item } of pending.active) this.#o.cache.delete(item.doc);
  }

  /** Applies one batch in memory and returns what storing it takes. */
  async #apply(peer: SyncPeer, active: Incoming[]): Promise<Applied> {
    const { docs, states, cache, materialize } = this.#o;
    const syncStates = await states.load(
      peer.id,
      active.map((a) => a.item.doc),
      (docId) => peer.access(docId) === "read",
    );
    const applied: Applied = { statements: [], updated: new Map(), reply: [] };
    for (const { item, write } of active) {
      const entry = await cache.get(item.doc) ?? { doc: A.init(), info: undefined };
      const before = A.getHeads(entry.doc);
      const { doc, state, patches } = receiveOr400(entry.doc, syncStates.get(item.doc)!, item);
      if (write && !sameHeads(before, A.getHeads(doc))) {
        checkActors(peer, item.doc, doc, before);
        applied.statements.push(
          ...materializeOr400(materialize, item.doc, doc, changedKeysOf(patches), before),
        );
        const save = docs.prepareSave(item.doc, doc, entry.info);
        applied.statements.push(...save.statements);
        applied.updated.set(item.doc, { doc, info: save.info });
      } else if (doc !== entry.doc) {
        applied.updated.set(item.doc, { doc, info: entry.info });
      }
      const [next, message] = A.generateSyncMessage(doc, state);
      if (message) applied.reply.push({ doc: item.doc, msg: message });
      applied.statements.push(states.saveStatement(peer.id, item.doc, next));
    }
    return applied;
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
 * Applies a message and collects the patches it made, which say what
 * changed without a diff. A message that decoded but whose changes do not
 * (a corrupted change, a bad checksum) is the peer's error: 400.
 */
function receiveOr400(doc: A.Doc<unknown>, state: A.SyncState, item: SyncItem) {
  const patches: A.Patch[] = [];
  try {
    const [next, received] = A.receiveSyncMessage(doc, state, item.msg, {
      patchCallback: (p) => patches.push(...p),
    });
    return { doc: next, state: received, patches };
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
  changed: ChangedKeys,
  before: A.Heads,
): InStatement[] {
  try {
    return materialize(docId, doc, changed, before);
  } catch (error) {
    if (error instanceof ApiError) throw error;
    throw badRequest(`${docId}: ${(error as Error).message}`, "invalid_record");
  }
}
