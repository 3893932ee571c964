/**
 * A document of records this site owns and edits over its API (`rules/<site>`,
 * `licences/<site>`): each edit is one Automerge change, read and written
 * under the site's write lock so no concurrent edit is lost, and stored in
 * one transaction with the rows it materialises. The document is kept in
 * the site's cache, so the next sync serves it without loading it again.
 *
 * @module
 */
import * as A from "@automerge/automerge";
import { type ChangedKeys, changedKeys } from "../store/changed_keys.ts";
import type { Client, InStatement } from "../store/db.ts";
import type { StoredDocInfo } from "../store/doc_store.ts";
import type { Store } from "../store/store.ts";

export type RecordsDoc = Record<string, Uint8Array>;

export class OwnRecordDoc {
  readonly #site: Store;
  readonly #docId: string;
  readonly #rows: (doc: A.Doc<unknown>, changed: ChangedKeys) => InStatement[];

  /** `rows` gives the statements that bring the query tables up to the changed keys. */
  constructor(
    site: Store,
    docId: string,
    rows: (doc: A.Doc<unknown>, changed: ChangedKeys) => InStatement[],
  ) {
    this.#site = site;
    this.#docId = docId;
    this.#rows = rows;
  }

  /**
   * Runs `edit` on the current document under the write lock. It returns the
   * change to make (a message and a function that changes the document) and
   * its result, or `undefined` to change nothing; what it throws leaves the
   * document as it was.
   */
  edit<T>(
    edit: (doc: A.Doc<RecordsDoc>) => Promise<
      { message: string; change: (d: RecordsDoc) => void; result: T } | undefined
    >,
  ): Promise<T | undefined> {
    return this.#site.lock.run(async () => {
      const cached = await this.#site.cache.get(this.#docId);
      const doc = (cached?.doc ?? A.init({ actor: this.#site.actor })) as A.Doc<RecordsDoc>;
      const planned = await edit(doc);
      if (!planned) return undefined;
      const before = A.getHeads(doc);
      const next = A.change(doc, planned.message, planned.change);
      await this.#store(cached?.info, before, next);
      return planned.result;
    });
  }

  async #store(info: StoredDocInfo | undefined, before: A.Heads, doc: A.Doc<RecordsDoc>) {
    const { db, docs, cache } = this.#site;
    const save = docs.prepareSave(this.#docId, doc, info);
    try {
      await db.batch([...save.statements, ...this.#rows(doc, changedKeys(doc, before))], "write");
    } catch (error) {
      cache.delete(this.#docId);
      throw error;
    }
    cache.set(this.#docId, { doc, info: save.info });
  }
}

/**
 * The next number of a sequence kept in `site_meta` (`rule_seq`,
 * `licence_seq`). Numbers are never reused, so an old session or alert never
 * names a new rule or licence.
 */
export async function nextNumber(db: Client, key: string): Promise<number> {
  const result = await db.execute({
    sql: "UPDATE site_meta SET value = CAST(value AS INTEGER) + 1 WHERE key = ? RETURNING value",
    args: [key],
  });
  if (result.rows[0]) return Number(result.rows[0].value);
  await db.execute({ sql: "INSERT INTO site_meta (key, value) VALUES (?, '1')", args: [key] });
  return 1;
}
