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
import { isIntactChange } from "./intact_change.ts";
import * as A from "@automerge/automerge";
import { isActorOf } from "../model/actor_id.ts";
import { type ChangedKeys, changedKeysOf } from "../store/changed_keys.ts";
import type { Client, InStatement } from "../store/db.ts";
import type { DocStore } from "../store/doc_store.ts";
import { sameHeads } from "../lib/heads.ts";
import { log } from "../lib/log.ts";
import type { Mutex } from "../lib/mutex.ts";
import type { SyncItem } from "./sync_batch.ts";
import type { SyncStateStore } from "../store/sync_state_store.ts";
import { forbiddenSync, malformedBatch, SyncRefusal } from "./sync_refusal.ts";
import type { CachedDoc, DocCache } from "../store/doc_cache.ts";
import type { SyncPeer } from "./sync_peer.ts";

/** Turns the records a change put or deleted into rows; throws on invalid records. */
export type Materializer = (
  docId: string,
  doc: A.Doc<unknown>,
  changed: ChangedKeys,
  before: A.Heads,
  from?: MaterializeFrom,
) => InStatement[];

/** What the site knows of the peer that sent the change. */
export interface MaterializeFrom {
  /** Added to the peer's times: its clock's measured error. */
  clockCorrectionMs: number;
  /** The sites whose rules the peer follows, when the site knows them (`SyncPeer.ruleSites`). */
  ruleSites?: ReadonlySet<string>;
}

export interface SyncHandlerOptions {
  db: Client;
  docs: DocStore;
  states: SyncStateStore;
  cache: DocCache;
  /** Held while a group is applied and stored. */
  lock: Pick<Mutex, "run">;
  materialize: Materializer;
  /**
   * Stores a group's transaction: on `db` by default. A sync thread hands
   * it to the site's thread, whose connection is the database's one writer.
   */
  store?: (statements: InStatement[]) => Promise<void>;
  /**
   * Other writers store documents without going through `cache` (the site's
   * thread, other sync threads): a cached document is then used only while
   * it is the stored version, which costs a read of its row.
   */
  checkStored?: boolean;
  /** Told, under the lock, which documents a group stored, once it committed. */
  written?: (docIds: string[]) => void;
  /** The most batches stored in one transaction. */
  maxGroup?: number;
  /**
   * How long, ms, a group may spend applying batches before it is stored
   * with those applied so far, the rest left for the next group
   * ({@linkcode GROUP_BUDGET_MS}).
   */
  groupBudgetMs?: number;
  /**
   * Batches with changes that may wait to be stored; past it another is
   * refused at once with {@linkcode SyncBusy}. Heartbeats never wait.
   */
  maxQueued?: number;
}

/**
 * The server is behind with its writes: the batch was not applied, and the
 * peer should come back later. A fleet arriving at once (a rule changed,
 * agents back after an outage) is then answered at once, instead of held
 * in memory and on connections it cannot serve sooner.
 */
export class SyncBusy extends Error {
  constructor(readonly queued: number) {
    super(`the site is behind with its writes (${queued} batches waiting)`);
    this.name = "SyncBusy";
  }
}

/**
 * Applying a group is one task of the event loop: its reads are synchronous
 * under their promises, so nothing else runs until it is stored. 64 batches
 * of a busy day's usage took up to 250 ms under the 50,000-agent load, and
 * every request meanwhile, a health check as much as a heartbeat, waited
 * that long. Past this budget the group is stored as it is; a transaction
 * more costs far less than such a wait.
 */
export const GROUP_BUDGET_MS = 20;

interface Incoming {
  item: SyncItem;
  message: A.DecodedSyncMessage;
  write: boolean;
  /** The stored heads, when read to tell a heartbeat. */
  stored?: A.Heads;
}

export interface SyncHandled {
  /** The site's messages in answer. */
  items: SyncItem[];
}

/** A batch waiting for its group. */
interface Pending {
  peer: SyncPeer;
  active: Incoming[];
  /** Store it in a transaction of its own (its group's transaction failed). */
  alone?: boolean;
  resolve: (handled: SyncHandled) => void;
  reject: (error: unknown) => void;
}

/** What applying a batch produced, to store and then answer with. */
interface Applied {
  statements: InStatement[];
  updated: Map<string, CachedDoc>;
  /** The documents it stores a new version of. */
  written: string[];
  reply: SyncItem[];
}

/**
 * The documents of a group as applying leaves them: a replica several
 * batches read (the rules) must be passed from one to the next, because
 * applying a message retires the handle it was applied to.
 */
type Working = Map<string, CachedDoc>;

export class SyncHandler {
  readonly #o: SyncHandlerOptions;
  #queue: Pending[] = [];
  #draining = false;
  /** Batches of the group being stored. */
  #storing = 0;

  constructor(options: SyncHandlerOptions) {
    this.#o = options;
  }

  /** Batches waiting to be stored, or being stored: how far behind the site's writes are. */
  get queued(): number {
    return this.#queue.length + this.#storing;
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
    if (active.length === 0) return { items: [] };
    const reads = this.#answerReads(active);
    if (reads) return reads;
    if (this.queued >= (this.#o.maxQueued ?? Infinity)) {
      throw new SyncBusy(this.queued);
    }
    return await new Promise<SyncHandled>((resolve, reject) => {
      this.#queue.push({ peer, active, resolve, reject });
      if (!this.#draining) this.#drain();
    });
  }

  /**
   * A batch that only reads, from heads this site knows (an agent behind on
   * its rules): answered with the changes since those heads, from the hot
   * document, without the write lock or a stored sync state. A fleet told of
   * a new rule then costs no writes; the peer's next round, at the new
   * heads, is a heartbeat. Undefined when an item needs the full exchange:
   * a document not in the cache, heads it does not know, changes it needs
   * by hash, or a handle a group is applying to right now.
   */
  #answerReads(active: Incoming[]): SyncHandled | undefined {
    if (active.some((a) => a.write || a.message.need.length > 0)) return undefined;
    // Only a cached document: loading one here, outside the lock, could race a writer. Each
    // answer keeps it most recently used, so a fleet's usage does not push it out meanwhile;
    // the first miss takes the full exchange, which loads it.
    const entries = active.map((a) => this.#o.cache.use(a.item.doc));
    if (entries.some((entry) => entry === undefined)) return undefined;
    const items: SyncItem[] = [];
    try {
      for (const [i, { item, message }] of active.entries()) {
        const doc = entries[i]?.info ? entries[i]!.doc : undefined;
        if (!doc || !A.hasHeads(doc, message.heads)) return undefined;
        if (this.#o.checkStored && !sameHeads(entries[i]!.info!.heads, active[i].stored ?? [])) {
          return undefined; // another writer stored a newer version: the full exchange loads it
        }
        const changes = A.getChangesSince(doc, message.heads);
        // No `have`: the peer then sends nothing back but its new heads.
        const reply = { heads: A.getHeads(doc), need: [], have: [], changes };
        items.push({ doc: item.doc, msg: A.encodeSyncMessage(reply) });
      }
    } catch {
      return undefined; // a handle retired by a group under way: the full exchange waits for it
    }
    return { items };
  }

  /** Nothing to apply and nothing to tell: the peer has what we have. */
  async #isHeartbeat(incoming: Incoming): Promise<boolean> {
    const { item, message } = incoming;
    if (message.changes.length > 0) return false;
    const cached = this.#o.checkStored ? undefined : this.#o.cache.peek(item.doc)?.info;
    const info = cached ?? await this.#o.docs.info(item.doc);
    incoming.stored = info?.heads ?? [];
    return sameHeads(message.heads, incoming.stored);
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
        this.#storing = group.length;
        await this.#o.lock.run(async () => {
          try {
            await this.#storeGroup(group);
          } finally {
            // Under the lock nothing else holds a cached document: those the
            // group pushed out of the cache can go now, not at V8's leisure.
            this.#o.cache.freeReleased();
            this.#storing = 0;
          }
        });
      }
    } finally {
      this.#draining = false;
    }
  }

  /**
   * The next batches. Two batches that write the same document wait a turn
   * (a refused one would spoil the other's base); replicas they only read may
   * be shared. A batch to be stored alone forms a group by itself.
   */
  #takeGroup(): Pending[] {
    const first = this.#queue[0];
    if (first.alone) return [this.#queue.shift()!];
    const group: Pending[] = [];
    const written = new Set<string>();
    const rest: Pending[] = [];
    for (const pending of this.#queue) {
      const ids = pending.active.filter((a) => a.write).map((a) => a.item.doc);
      const fits = !pending.alone && group.length < (this.#o.maxGroup ?? 64) &&
        ids.every((id) => !written.has(id));
      if (!fits) {
        rest.push(pending);
        continue;
      }
      group.push(pending);
      for (const id of ids) written.add(id);
    }
    this.#queue = rest;
    return group;
  }

  async #storeGroup(group: Pending[]): Promise<void> {
    const working: Working = new Map();
    const done: [Pending, Applied][] = [];
    const until = performance.now() + (this.#o.groupBudgetMs ?? GROUP_BUDGET_MS);
    for (const [i, pending] of group.entries()) {
      if (done.length > 0 && performance.now() > until) {
        // Not applied yet: first in line for the next group.
        this.#queue.unshift(...group.slice(i));
        this.#storing = i;
        break;
      }
      try {
        done.push([pending, await this.#apply(pending.peer, pending.active, working)]);
      } catch (error) {
        this.#forget(pending.active, working);
        logRefusal(pending.peer, error);
        pending.reject(error);
      }
    }
    if (done.length === 0) return;
    try {
      await this.#store(done.flatMap(([, a]) => a.statements));
    } catch (error) {
      this.#failed(done.map(([pending]) => pending), error);
      return;
    }
    for (const [pending, applied] of done) {
      for (const [docId, entry] of applied.updated) this.#o.cache.update(docId, entry);
      pending.resolve({ items: applied.reply });
    }
    this.#o.written?.(done.flatMap(([, applied]) => applied.written));
  }

  async #store(statements: InStatement[]): Promise<void> {
    if (this.#o.store) await this.#o.store(statements);
    else await this.#o.db.batch(statements, "write");
  }

  /**
   * A group's transaction failed: nothing of it is stored. Alone, the batch
   * gets the error; in company, each is tried again in a transaction of its
   * own, so that one batch cannot sink the others.
   */
  #failed(group: Pending[], error: unknown): void {
    for (const pending of group) this.#forget(pending.active, new Map());
    if (group.length === 1) {
      log.error("storing a sync batch failed", { peer: group[0].peer.id, error });
      group[0].reject(error);
      return;
    }
    this.#queue.unshift(...group.map((pending) => ({ ...pending, alone: true })));
  }

  /**
   * Applying may have retired cached handles: drop them, the next use
   * reloads. A replica's newest handle stays in the group's working set (its
   * content is what is stored); a written document's does not.
   */
  #forget(items: Incoming[], working: Working): void {
    for (const { item, write } of items) {
      this.#o.cache.delete(item.doc);
      if (write) working.delete(item.doc);
    }
  }

  /** The document to apply to, checked against what is stored when others write too. */
  #cached(docId: string): Promise<CachedDoc | undefined> {
    return this.#o.checkStored ? this.#o.cache.getStored(docId) : this.#o.cache.get(docId);
  }

  /** Applies one batch in memory and returns what storing it takes. */
  async #apply(peer: SyncPeer, active: Incoming[], working: Working): Promise<Applied> {
    const { docs, states, materialize } = this.#o;
    const syncStates = await states.load(
      peer.id,
      active.map((a) => a.item.doc),
      (docId) => peer.access(docId) === "read",
    );
    const applied: Applied = { statements: [], updated: new Map(), written: [], reply: [] };
    for (const { item, write } of active) {
      const entry = working.get(item.doc) ?? await this.#cached(item.doc) ??
        { doc: A.init(), info: undefined };
      const before = A.getHeads(entry.doc);
      const { doc, state, patches } = receiveOr400(entry.doc, syncStates.get(item.doc)!, item);
      let updated: CachedDoc = { doc, info: entry.info };
      if (write && !sameHeads(before, A.getHeads(doc))) {
        working.set(item.doc, updated); // the old handle is retired, even if this batch fails
        checkActors(peer, item.doc, doc, before);
        applied.statements.push(
          ...materializeOr400(materialize, item.doc, doc, changedKeysOf(patches), before, {
            clockCorrectionMs: peer.clockCorrectionMs ?? 0,
            ruleSites: peer.ruleSites,
          }),
        );
        const save = docs.prepareSave(item.doc, doc, entry.info);
        applied.statements.push(...save.statements);
        applied.written.push(item.doc);
        updated = { doc, info: save.info };
      }
      working.set(item.doc, updated);
      if (doc !== entry.doc) applied.updated.set(item.doc, updated);
      const [next, message] = A.generateSyncMessage(doc, state);
      if (message) applied.reply.push({ doc: item.doc, msg: message });
      applied.statements.push(states.saveStatement(peer.id, item.doc, next));
    }
    return applied;
  }
}

/** Refusals are logged, so an operator sees a peer that sends what it may not. */
function logRefusal(peer: SyncPeer, error: unknown): void {
  if (!(error instanceof SyncRefusal)) return;
  log.warn("sync batch refused", { peer: peer.id, status: error.status, reason: error.message });
}

/** Access and form of every item, before anything is applied. */
function checkItems(peer: SyncPeer, items: readonly SyncItem[]): Incoming[] {
  const seen = new Set<string>();
  return items.map((item) => {
    if (seen.has(item.doc)) throw malformedBatch(`the batch names ${item.doc} twice`);
    seen.add(item.doc);
    const access = peer.access(item.doc);
    if (access === "none") {
      throw forbiddenSync(`${peer.id} may not sync ${item.doc}`, "doc_forbidden");
    }
    let message: A.DecodedSyncMessage;
    try {
      message = A.decodeSyncMessage(item.msg);
    } catch {
      throw malformedBatch(
        `the message for ${item.doc} is not an Automerge sync message`,
        "bad_message",
      );
    }
    if (!message.changes.every(isIntactChange)) {
      throw malformedBatch(
        `the message for ${item.doc} carries a corrupt Automerge change (bad checksum)`,
        "bad_message",
      );
    }
    if (access === "read" && message.changes.length > 0) {
      throw forbiddenSync(
        `${peer.id} may only read ${item.doc}, but sent changes to it`,
        "read_only",
      );
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
    throw malformedBatch(
      `the message for ${item.doc} is not a valid Automerge sync message: ` +
        `${(error as Error).message}`,
      "bad_message",
    );
  }
}

/** Every change new to the document must come from an actor of the peer. */
function checkActors(peer: SyncPeer, docId: string, doc: A.Doc<unknown>, before: A.Heads): void {
  for (const change of A.getChangesMetaSince(doc, before)) {
    if (!isActorOf(peer.actors, change.actor)) {
      throw forbiddenSync(
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
  from: MaterializeFrom,
): InStatement[] {
  try {
    return materialize(docId, doc, changed, before, from);
  } catch (error) {
    if (error instanceof SyncRefusal) throw error;
    throw malformedBatch(`${docId}: ${(error as Error).message}`, "invalid_record");
  }
}
