/**
 * A bounded cache of hot documents (least recently used first out), so that
 * an agent syncing every minute does not make the site load its day's usage
 * document from libSQL every time.
 *
 * An entry holds the document and what is stored for it; it is replaced only
 * after a transaction that stored a new version commits, and evicted when one
 * fails, so the cache never holds what the database does not.
 *
 * @module
 */
import type * as A from "@automerge/automerge";
import type { DocStore, StoredDocInfo } from "../sync/doc_store.ts";

export interface CachedDoc {
  doc: A.Doc<unknown>;
  /** `undefined` for a document not stored yet. */
  info: StoredDocInfo | undefined;
}

export class DocCache {
  readonly #entries = new Map<string, CachedDoc>();
  readonly #store: DocStore;
  readonly #capacity: number;
  hits = 0;
  misses = 0;

  readonly #actorFor: (docId: string) => string | undefined;

  /**
   * `actorFor` names the actor for documents this site writes, so that its
   * changes carry its own actor however the document entered the cache.
   */
  constructor(
    store: DocStore,
    capacity = 2_000,
    actorFor: (docId: string) => string | undefined = () => undefined,
  ) {
    this.#store = store;
    this.#capacity = capacity;
    this.#actorFor = actorFor;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The cached entry, or `undefined` without touching the database. */
  peek(docId: string): CachedDoc | undefined {
    return this.#entries.get(docId);
  }

  /** The document from the cache or the store; `undefined` if none is stored. */
  async get(docId: string): Promise<CachedDoc | undefined> {
    const cached = this.#entries.get(docId);
    if (cached) {
      this.hits++;
      this.#entries.delete(docId); // re-insert: most recently used last
      this.#entries.set(docId, cached);
      return cached;
    }
    this.misses++;
    const info = await this.#store.info(docId);
    if (!info) return undefined;
    const doc = await this.#store.load(docId, this.#actorFor(docId));
    if (!doc) return undefined;
    const entry = { doc, info };
    this.set(docId, entry);
    return entry;
  }

  set(docId: string, entry: CachedDoc): void {
    this.#entries.delete(docId);
    this.#entries.set(docId, entry);
    while (this.#entries.size > this.#capacity) {
      this.#entries.delete(this.#entries.keys().next().value!);
    }
  }

  delete(docId: string): void {
    this.#entries.delete(docId);
  }
}
