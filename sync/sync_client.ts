/**
 * The HTTP sync client: brings a set of local documents in sync with a
 * server over `POST` batches of Automerge sync messages, repeating rounds
 * until neither side has anything to send.
 *
 * Nothing is stored until a reply arrives, and what a reply brings is stored
 * in one transaction with the sync states, so a request that is lost, times
 * out or is answered twice changes nothing: the next sync sends the same
 * changes again and the server already has them.
 *
 * @module
 */
import * as A from "@automerge/automerge";
import type { Client, InStatement } from "../store/db.ts";
import type { DocStore, StoredDocInfo } from "../store/doc_store.ts";
import type { DocCache } from "../store/doc_cache.ts";
import { sameHeads } from "../lib/heads.ts";
import {
  CBOR_TYPE,
  decodeSyncBody,
  encodeSyncBody,
  MAX_SYNC_BODY_BYTES,
  MAX_SYNC_ITEMS,
  type SyncItem,
  type SyncReply,
  syncReplySchema,
} from "./sync_batch.ts";
import { primeSyncState, type SyncStateStore } from "../store/sync_state_store.ts";
import { compressBody, decompressBody, DEFLATE } from "./body_compression.ts";
import { errorMessageOf } from "../model/error_body.ts";
import { errorText } from "../lib/error_text.ts";

/** The largest reply a client inflates: a server may send a lot to a new replica. */
const MAX_REPLY_BYTES = 64 * 1024 * 1024;

/** A document to sync: one this side writes, or a replica it only reads. */
export interface SyncTarget {
  docId: string;
  access: "write" | "read";
  /** The actor id local changes to this document are made with. */
  actor?: string;
}

export interface SyncClientOptions {
  /** The server's sync endpoint, e.g. `http://site:8080/v1/sync`. */
  url: string;
  /** The `Authorization` header value. */
  authorization: () => string;
  db: Client;
  docs: DocStore;
  states: SyncStateStore;
  /** The name the server's sync states are kept under locally. */
  peer: string;
  fetch?: typeof fetch;
  timeoutMs?: number;
  maxRounds?: number;
  /** This computer's clock, sent with every batch so the server can measure its offset. */
  clock?: () => number;
  /**
   * Documents kept loaded between syncs: those in it are used (when they are
   * the stored version) and kept current, and the replicas read are added,
   * since every sync reads them. Without it each sync loads what it needs.
   * Whoever owns it frees what leaves it (`DocCache.freeReleased`).
   */
  cache?: DocCache;
}

export interface SyncOutcome {
  rounds: number;
  bytesSent: number;
  bytesReceived: number;
  /** Documents the server's messages changed here. */
  changed: string[];
  /** Documents the server says this peer should follow read-only. */
  read: string[];
  /** The server's clock when it answered the last round, in ms. */
  serverNow: number;
  /** When the server wants the next sync if nothing is new, in seconds (agents' sites say). */
  syncAfterSeconds?: number;
  /** The version of the rules followed, to wait on (`rules_wait.ts`; agents' sites say). */
  rulesVersion?: string;
}

/** A failed sync; `retryable` when the server was away or overloaded. */
export class SyncError extends Error {
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly retryable: boolean,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = "SyncError";
  }
}

interface Work {
  target: SyncTarget;
  doc: A.Doc<unknown>;
  state: A.SyncState;
  stored: StoredDocInfo | undefined;
  /** Kept in the cache after the sync. */
  keep: boolean;
}

export class SyncClient {
  readonly #options: SyncClientOptions;

  constructor(options: SyncClientOptions) {
    this.#options = options;
  }

  /**
   * Runs one sync of the targets; throws {@linkcode SyncError}. With
   * `announceAll`, written documents the server confirmed are announced too,
   * so a server restored from an older backup learns what it lost.
   */
  async sync(
    targets: readonly SyncTarget[],
    { announceAll = false } = {},
  ): Promise<SyncOutcome> {
    const outcome: SyncOutcome = {
      rounds: 0,
      bytesSent: 0,
      bytesReceived: 0,
      changed: [],
      read: [],
      serverNow: 0,
    };
    const work = await this.#load(targets, announceAll);
    try {
      await this.#rounds(work, outcome);
    } catch (error) {
      // A document may be ahead of what was stored: none is used again.
      this.#release(work, false);
      throw error;
    }
    this.#release(work, true);
    return outcome;
  }

  /** Exchanges messages until neither side has more to send (or `maxRounds`). */
  async #rounds(work: Map<string, Work>, outcome: SyncOutcome): Promise<void> {
    const { maxRounds = 10 } = this.#options;
    let pending = [...work.values()];
    while (pending.length > 0 && outcome.rounds < maxRounds) {
      const items = this.#messages(pending);
      if (items.length === 0) break;
      outcome.rounds++;
      const replies: SyncItem[] = [];
      for (const batch of batchesOf(items)) {
        const reply = await this.#post(batch, outcome);
        replies.push(...reply.items);
        outcome.read = reply.read;
        outcome.serverNow = reply.now;
        outcome.syncAfterSeconds = reply.syncAfter;
        outcome.rulesVersion = reply.rules;
      }
      pending = await this.#receive(work, replies, outcome);
    }
  }

  /** Keeps what the cache should hold (after a sync that stored all it took) and lets go of the rest. */
  #release(work: Map<string, Work>, stored: boolean): void {
    const { cache } = this.#options;
    if (!cache) return;
    for (const [docId, w] of work) {
      if (stored && w.keep && w.stored) cache.set(docId, { doc: w.doc, info: w.stored });
      else cache.discard(docId, w.doc);
    }
  }

  /**
   * Loads what this sync needs. A written document the server already holds
   * in full is left out (unless `announceAll`); a replica is always in, or
   * it would never learn of news.
   */
  async #load(targets: readonly SyncTarget[], announceAll: boolean): Promise<Map<string, Work>> {
    const { docs, states, peer } = this.#options;
    const loaded = await states.load(peer, targets.map((t) => t.docId));
    const work = new Map<string, Work>();
    for (const target of targets) {
      const stored = await docs.info(target.docId);
      const state = primeSyncState(loaded.get(target.docId)!);
      const confirmed = sameHeads(state.sharedHeads, stored?.heads ?? []);
      if (target.access === "write" && confirmed && !announceAll) continue;
      // The server refuses changes to a replica with 403, and the whole batch
      // with them; a replica whose stored state is older than the document
      // (lost or restored) would offer the server's own changes back forever.
      if (target.access === "read") (state as { peerReadOnly?: boolean }).peerReadOnly = true;
      const init = target.actor ? { actor: target.actor } : undefined;
      const cached = this.#options.cache?.current(target.docId, stored, target.actor);
      const doc = cached ?? await docs.load(target.docId, target.actor) ?? A.init(init);
      const keep = cached !== undefined || target.access === "read";
      work.set(target.docId, { target, doc, state, stored, keep });
    }
    return work;
  }

  #messages(pending: Work[]): SyncItem[] {
    const items: SyncItem[] = [];
    for (const w of pending) {
      const [state, msg] = A.generateSyncMessage(w.doc, w.state);
      w.state = state;
      if (msg) items.push({ doc: w.target.docId, msg });
    }
    return items;
  }

  /** Applies the server's messages and stores the result in one transaction. */
  async #receive(work: Map<string, Work>, replies: SyncItem[], outcome: SyncOutcome) {
    const statements: InStatement[] = [];
    const next: Work[] = [];
    for (const item of replies) {
      const w = work.get(item.doc);
      if (!w) continue; // not asked for: ignore rather than store
      const before = A.getHeads(w.doc);
      [w.doc, w.state] = A.receiveSyncMessage(w.doc, w.state, item.msg);
      if (!sameHeads(before, A.getHeads(w.doc))) {
        const save = this.#options.docs.prepareSave(item.doc, w.doc, w.stored);
        statements.push(...save.statements);
        w.stored = save.info;
        outcome.changed.push(item.doc);
      }
      statements.push(this.#options.states.saveStatement(this.#options.peer, item.doc, w.state));
      // Equal heads mean neither side lacks anything: no further round.
      const theirHeads = (w.state as { theirHeads?: A.Heads | null }).theirHeads;
      if (!theirHeads || !sameHeads(theirHeads, A.getHeads(w.doc))) next.push(w);
    }
    if (statements.length > 0) await this.#options.db.batch(statements, "write");
    return next;
  }

  #now(): number {
    return (this.#options.clock ?? Date.now)();
  }

  async #post(items: SyncItem[], outcome: SyncOutcome): Promise<SyncReply> {
    const { url, authorization, timeoutMs = 30_000 } = this.#options;
    const doFetch = this.#options.fetch ?? fetch;
    const { body, encoding } = compressBody(encodeSyncBody({ items, now: this.#now() }));
    outcome.bytesSent += body.length;
    let response: Response;
    try {
      response = await doFetch(url, {
        method: "POST",
        headers: {
          "content-type": CBOR_TYPE,
          accept: CBOR_TYPE,
          "accept-encoding": DEFLATE,
          authorization: authorization(),
          ...(encoding ? { "content-encoding": encoding } : {}),
        },
        body: body as Uint8Array<ArrayBuffer>,
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      throw new SyncError(`cannot reach ${url}: ${errorText(error)}`, undefined, true);
    }
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await response.arrayBuffer());
    } catch (error) {
      throw new SyncError(
        `connection lost reading the reply: ${(error as Error).message}`,
        response.status,
        true,
      );
    }
    outcome.bytesReceived += bytes.length;
    if (!response.ok) throw errorFromResponse(response, bytes);
    try {
      const encoding = response.headers.get("content-encoding");
      return decodeSyncBody(decompressBody(bytes, encoding, MAX_REPLY_BYTES), syncReplySchema);
    } catch (error) {
      throw new SyncError((error as Error).message, response.status, true);
    }
  }
}

/**
 * Splits a round's messages into requests a server accepts: at most
 * {@linkcode MAX_SYNC_ITEMS} documents and about half the body limit each
 * (a message larger than that travels alone).
 */
function batchesOf(items: SyncItem[]): SyncItem[][] {
  const batches: SyncItem[][] = [];
  let batch: SyncItem[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = item.msg.length + item.doc.length + 16;
    if (
      batch.length > 0 && (batch.length >= MAX_SYNC_ITEMS || bytes + size > MAX_SYNC_BODY_BYTES / 2)
    ) {
      batches.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(item);
    bytes += size;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

/** A refused request as a {@linkcode SyncError}: retryable when the server was away or busy. */
export function errorFromResponse(response: Response, bytes: Uint8Array): SyncError {
  const reason = errorMessageOf(new TextDecoder().decode(bytes));
  const message = `HTTP ${response.status}${reason ? `: ${reason}` : ""}`;
  const retryAfter = Number(response.headers.get("retry-after"));
  const retryable = response.status >= 500 || response.status === 429 || response.status === 408;
  return new SyncError(
    message,
    response.status,
    retryable,
    Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined,
  );
}
