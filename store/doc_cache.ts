/**
 * A bounded cache of hot documents (least recently used first out), so that
 * an agent syncing every minute does not make the site load its day's usage
 * document from libSQL every time. The agent keeps a small one for the
 * documents each of its flushes and syncs use (the day's usage, the rules);
 * there not every writer goes through it, so it takes a cached document only
 * when it is the stored version ({@linkcode DocCache.current}).
 *
 * An entry holds the document and what is stored for it; it is replaced only
 * after a transaction that stored a new version commits, and evicted when one
 * fails, so the cache never holds what the database does not.
 *
 * It is bounded by documents and by their stored bytes: a document in memory
 * costs about 70 times its stored size (Automerge's materialised records and
 * the patches of each change it keeps reachable from them: ~800 bytes of heap
 * per ~11-byte session record, measured by the load test), and a busy
 * client's day grows all day, so a count alone does not bound memory.
 *
 * A document's WebAssembly memory is freed only by `A.free` or when V8
 * collects the object that owns it, and V8 collects rarely, so documents
 * that leave the cache are kept in a list and freed by
 * {@linkcode DocCache.freeReleased}, which the site calls where no one else
 * can hold them: at the end of work under its write lock, which every user
 * of cached documents holds. A document's newer versions share its memory,
 * so one that is back in the cache (stored again after a change) is kept.
 *
 * The site asks it to admit a document only when it is used again soon
 * (`admitOnReuseWithin`): among that many documents used since. With
 * 50,000 agents each syncing every minute or two, a document's next use
 * comes after some 40,000 others, long after a 2 MB cache let it go: the
 * cache then hit 2 % of syncs, and every document it held only lived long
 * enough for V8 to move it to the old generation, whose collections are
 * the costly ones. Admitted on reuse, the documents of agents that sync
 * often stay cached as before, and the rest die young.
 *
 * @module
 */
import * as A from "@automerge/automerge";
import type { DocStore, StoredDocInfo } from "./doc_store.ts";
import { sameHeads } from "../lib/heads.ts";
import { RecentMap } from "../lib/recent_map.ts";

export interface CachedDoc {
  doc: A.Doc<unknown>;
  /** `undefined` for a document not stored yet. */
  info: StoredDocInfo | undefined;
}

/** Documents cached, at most. */
export const DEFAULT_CACHE_DOCS = 2_000;

/** Stored bytes of cached documents: about 150 MB of memory at the measured ratio. */
export const DEFAULT_CACHE_BYTES = 2 * 1024 * 1024;

export interface DocCacheOptions {
  /**
   * Admit a document loaded, or stored anew, only if it was used before
   * among this many documents used since; otherwise it is freed after use.
   * Unset, every document is admitted.
   */
  admitOnReuseWithin?: number;
}

export class DocCache {
  readonly #entries = new Map<string, CachedDoc>();
  /** Documents used and not admitted, when admission is asked for. */
  readonly #recent?: RecentMap<string, true>;
  readonly #store: DocStore;
  readonly #capacity: number;
  readonly #maxBytes: number;
  #bytes = 0;
  /** Documents that left the cache, by id, to free once no one can be using them. */
  #released: [string, A.Doc<unknown>][] = [];
  hits = 0;
  misses = 0;

  readonly #actorFor: (docId: string) => string | undefined;

  /**
   * `actorFor` names the actor for documents this site writes, so that its
   * changes carry its own actor however the document entered the cache.
   */
  constructor(
    store: DocStore,
    capacity = DEFAULT_CACHE_DOCS,
    actorFor: (docId: string) => string | undefined = () => undefined,
    maxBytes = DEFAULT_CACHE_BYTES,
    { admitOnReuseWithin }: DocCacheOptions = {},
  ) {
    this.#store = store;
    this.#capacity = capacity;
    this.#actorFor = actorFor;
    this.#maxBytes = maxBytes;
    if (admitOnReuseWithin !== undefined) this.#recent = new RecentMap(admitOnReuseWithin);
  }

  /** The stored bytes of the cached documents. */
  get bytes(): number {
    return this.#bytes;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The cached entry, or `undefined` without touching the database. */
  peek(docId: string): CachedDoc | undefined {
    return this.#entries.get(docId);
  }

  /**
   * The cached entry, kept as the most recently used, or `undefined` without
   * touching the database: for callers that must not load a document.
   */
  use(docId: string): CachedDoc | undefined {
    const cached = this.#entries.get(docId);
    if (cached) {
      this.hits++;
      this.#entries.delete(docId); // re-insert: most recently used last
      this.#entries.set(docId, cached);
    }
    return cached;
  }

  /** The document from the cache or the store; `undefined` if none is stored. */
  async get(docId: string): Promise<CachedDoc | undefined> {
    const cached = this.use(docId);
    if (cached) return cached;
    return await this.#load(docId, await this.#store.info(docId));
  }

  /**
   * The document as stored now: the cached one if it is that version, else
   * loaded (a cached version that is not goes). For a cache that not every
   * writer goes through (a sync thread's, beside the site's own writers): it
   * costs a read of the document's row, not a load.
   */
  async getStored(docId: string): Promise<CachedDoc | undefined> {
    const info = await this.#store.info(docId);
    const doc = this.current(docId, info);
    return doc ? { doc, info } : await this.#load(docId, info);
  }

  async #load(docId: string, info: StoredDocInfo | undefined): Promise<CachedDoc | undefined> {
    this.misses++;
    if (!info) return undefined;
    const doc = await this.#store.load(docId, this.#actorFor(docId));
    if (!doc) return undefined;
    const entry = { doc, info };
    if (this.#admits(docId)) this.set(docId, entry);
    else this.#released.push([docId, doc]); // freed once its user is done (`freeReleased`)
    return entry;
  }

  /**
   * A new version of the document, stored: it replaces the cached one, or
   * enters the cache if admitted (see {@linkcode DocCacheOptions}); else it
   * is freed at the next {@linkcode DocCache.freeReleased}.
   */
  update(docId: string, entry: CachedDoc): void {
    if (this.#entries.has(docId) || !this.#recent) {
      this.set(docId, entry);
      return;
    }
    // A use, but not a second one: the `get` that loaded it, if any, was this use.
    this.#recent.set(docId, true);
    this.#released.push([docId, entry.doc]);
  }

  /** Whether a document being loaded may enter: used before, soon enough, or no admission asked. */
  #admits(docId: string): boolean {
    if (!this.#recent) return true;
    if (this.#recent.delete(docId)) return true;
    this.#recent.set(docId, true);
    return false;
  }

  /**
   * The cached document if it is the version `stored` describes (and is
   * written as `actor`, when given); else `undefined`, and a cached version
   * that is not goes. For a side where not every writer goes through the
   * cache (the agent): what is stored decides, and the cache only saves
   * loading it again.
   */
  current(
    docId: string,
    stored: StoredDocInfo | undefined,
    actor?: string,
  ): A.Doc<unknown> | undefined {
    const entry = this.#entries.get(docId);
    if (!entry) return undefined;
    const same = stored !== undefined && entry.info !== undefined &&
      sameHeads(entry.info.heads, stored.heads) &&
      (actor === undefined || A.getActorId(entry.doc) === actor);
    if (!same) {
      this.delete(docId);
      return undefined;
    }
    this.#entries.delete(docId); // re-insert: most recently used last
    this.#entries.set(docId, entry);
    this.hits++;
    return entry.doc;
  }

  /**
   * A version of the document that will not be stored or used again (its
   * transaction failed, or it was loaded for one sync only): its memory goes
   * at the next {@linkcode DocCache.freeReleased}, with the cached entry if
   * that shares it (an older version of the same document).
   */
  discard(docId: string, doc: A.Doc<unknown>): void {
    const entry = this.#entries.get(docId);
    if (entry && A.getBackend(entry.doc) === A.getBackend(doc)) this.delete(docId);
    else this.#released.push([docId, doc]);
  }

  set(docId: string, entry: CachedDoc): void {
    this.delete(docId);
    this.#entries.set(docId, entry);
    this.#bytes += entry.info?.bytes ?? 0;
    while (
      this.#entries.size > this.#capacity ||
      (this.#bytes > this.#maxBytes && this.#entries.size > 1)
    ) {
      this.delete(this.#entries.keys().next().value!);
    }
  }

  delete(docId: string): void {
    const entry = this.#entries.get(docId);
    if (!entry) return;
    this.#bytes -= entry.info?.bytes ?? 0;
    this.#entries.delete(docId);
    this.#released.push([docId, entry.doc]);
  }

  /**
   * Frees the memory of the documents that left the cache and are not back
   * in it. Call it only where nothing else holds a document that came from
   * the cache. Returns how many were freed.
   */
  freeReleased(): number {
    const freed = new Set<unknown>();
    for (const [docId, doc] of this.#released) {
      const memory = A.getBackend(doc);
      const current = this.#entries.get(docId);
      if (freed.has(memory) || (current && A.getBackend(current.doc) === memory)) continue;
      freed.add(memory);
      A.free(doc);
    }
    this.#released = [];
    return freed.size;
  }
}
