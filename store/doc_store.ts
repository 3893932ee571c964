/**
 * The libSQL document store: Automerge documents kept as a snapshot plus
 * incremental chunks, the layout automerge-repo uses, so that saving a few
 * new changes costs bytes in proportion to the changes, not to the document.
 *
 * Saving returns SQL statements instead of running them, so a caller writes a
 * document, its sync state and the rows it materialises in one transaction.
 * The stored heads sit in their own column so that a peer's heads can be
 * compared without loading the document.
 *
 * Callers serialise writes to one document: the site and the agent each hold
 * a write lock around reading a document, changing it and storing it.
 *
 * @module
 */
import * as A from "@automerge/automerge";
import type { Client, InStatement } from "./db.ts";
import { headsKey, parseHeadsKey } from "../lib/heads.ts";

export const docStoreSchema = [
  `CREATE TABLE IF NOT EXISTS docs (
    doc_id TEXT PRIMARY KEY,
    heads TEXT NOT NULL,
    chunks INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  )`,
  `CREATE TABLE IF NOT EXISTS doc_chunks (
    id INTEGER PRIMARY KEY,
    doc_id TEXT NOT NULL,
    bytes BLOB NOT NULL
  )`,
  `CREATE INDEX IF NOT EXISTS doc_chunks_by_doc ON doc_chunks (doc_id, id)`,
] as const;

/** What the store knows about a document without loading it. */
export interface StoredDocInfo {
  docId: string;
  heads: A.Heads;
  chunks: number;
  bytes: number;
  updatedAt: number;
}

export interface DocStoreOptions {
  /** Rewrite a document as one snapshot once it has this many chunks. */
  compactAfterChunks?: number;
}

export class DocStore {
  readonly #db: Client;
  readonly #compactAfter: number;

  constructor(db: Client, options: DocStoreOptions = {}) {
    this.#db = db;
    this.#compactAfter = options.compactAfterChunks ?? 16;
  }

  /** Loads a document, or `undefined` when none is stored under that id. */
  async load<T>(docId: string, actor?: string): Promise<A.Doc<T> | undefined> {
    const bytes = await this.bytes(docId);
    return bytes && A.load<T>(bytes, actor ? { actor } : undefined);
  }

  /** A document's stored chunks, concatenated as `A.load` takes them. */
  async bytes(docId: string): Promise<Uint8Array | undefined> {
    const result = await this.#db.execute({
      sql: "SELECT bytes FROM doc_chunks WHERE doc_id = ? ORDER BY id",
      args: [docId],
    });
    if (result.rows.length === 0) return undefined;
    return concat(result.rows.map((row) => new Uint8Array(row.bytes as ArrayBuffer)));
  }

  /** The stored document's info, or `undefined`. */
  async info(docId: string): Promise<StoredDocInfo | undefined> {
    const result = await this.#db.execute({
      sql: "SELECT doc_id, heads, chunks, bytes, updated_at FROM docs WHERE doc_id = ?",
      args: [docId],
    });
    return result.rows[0] ? toInfo(result.rows[0]) : undefined;
  }

  /** Every stored document whose id starts with the prefix. */
  async list(prefix = ""): Promise<StoredDocInfo[]> {
    const result = await this.#db.execute({
      sql: "SELECT doc_id, heads, chunks, bytes, updated_at FROM docs " +
        "WHERE doc_id >= ? AND doc_id < ? ORDER BY doc_id",
      args: [prefix, prefix + "\uffff"],
    });
    return result.rows.map(toInfo);
  }

  /**
   * The statements that store `doc`, given what is stored now (`stored`, from
   * {@linkcode info}, or `undefined` for a new document), and the info that
   * will hold once they commit. No statements when the heads are unchanged.
   *
   * They fail, and with them their transaction, when what is stored is no
   * longer `stored` (another writer stored the document, or deleted it,
   * since): a chunk saved since `stored` would then miss what that writer
   * added, and a compaction would erase it. Writers that share no lock (the
   * site's sync threads) rely on it; the one that failed loads the document
   * again and retries.
   */
  prepareSave(
    docId: string,
    doc: A.Doc<unknown>,
    stored: StoredDocInfo | undefined,
    now = Date.now(),
  ): { statements: InStatement[]; info: StoredDocInfo } {
    const heads = A.getHeads(doc);
    if (stored && headsKey(stored.heads) === headsKey(heads)) {
      return { statements: [], info: stored };
    }
    const compact = !stored || stored.chunks + 1 >= this.#compactAfter;
    const bytes = compact ? A.save(doc) : A.saveSince(doc, stored.heads);
    const info: StoredDocInfo = {
      docId,
      heads,
      chunks: compact ? 1 : stored.chunks + 1,
      bytes: compact ? bytes.length : stored.bytes + bytes.length,
      updatedAt: now,
    };
    const statements: InStatement[] = [];
    if (compact) statements.push({ sql: "DELETE FROM doc_chunks WHERE doc_id = ?", args: [docId] });
    statements.push(
      { sql: "INSERT INTO doc_chunks (doc_id, bytes) VALUES (?, ?)", args: [docId, bytes] },
      ...(stored ? guardedUpdate(docId, stored, info) : [{
        // A plain insert: a row stored meanwhile fails it.
        sql: "INSERT INTO docs (doc_id, heads, chunks, bytes, updated_at) VALUES (?, ?, ?, ?, ?)",
        args: [docId, headsKey(heads), info.chunks, info.bytes, now],
      }]),
    );
    return { statements, info };
  }

  /** Statements that remove a document entirely. */
  deleteStatements(docId: string): InStatement[] {
    return [
      { sql: "DELETE FROM doc_chunks WHERE doc_id = ?", args: [docId] },
      { sql: "DELETE FROM docs WHERE doc_id = ?", args: [docId] },
    ];
  }

  /** Stores one document in its own transaction. */
  async save(docId: string, doc: A.Doc<unknown>): Promise<void> {
    const { statements } = this.prepareSave(docId, doc, await this.info(docId));
    if (statements.length > 0) await this.#db.batch(statements, "write");
  }
}

/**
 * The document's row moved from `stored` to `info`, or a failed transaction:
 * when the row is missing or at other heads, the update changes nothing and
 * the insert after it puts a NULL into the NOT NULL heads.
 */
function guardedUpdate(docId: string, stored: StoredDocInfo, info: StoredDocInfo): InStatement[] {
  return [
    {
      sql: `UPDATE docs SET heads = ?, chunks = ?, bytes = ?, updated_at = ?
        WHERE doc_id = ? AND heads = ?`,
      args: [
        headsKey(info.heads),
        info.chunks,
        info.bytes,
        info.updatedAt,
        docId,
        headsKey(stored.heads),
      ],
    },
    {
      sql: "INSERT INTO docs (doc_id, heads, chunks, bytes, updated_at) " +
        "SELECT ?, NULL, 0, 0, 0 WHERE changes() = 0",
      args: [docId],
    },
  ];
}

function toInfo(row: Record<string, unknown>): StoredDocInfo {
  return {
    docId: row.doc_id as string,
    heads: parseHeadsKey(row.heads as string),
    chunks: row.chunks as number,
    bytes: row.bytes as number,
    updatedAt: row.updated_at as number,
  };
}

function concat(chunks: Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}
