/**
 * Reading a running site's libSQL file from a test, read-only
 * (`PRAGMA query_only`), to prove what a request did or did not store: a
 * snapshot of every table that requests can change, compared before and
 * after.
 *
 * The site keeps clients' last sync times in memory for a few seconds; ask
 * for `GET /v1/clients` first (it flushes them) when that matters.
 *
 * @module
 */
import { type Client, createClient } from "@libsql/client";
import { DocStore } from "../../store/doc_store.ts";

/** Every row of the tables that requests write, blobs as hex, in a fixed order. */
export interface TablesSnapshot {
  docs: Record<string, unknown>[];
  docChunks: { count: number; bytes: number };
  docChunkRows: Record<string, unknown>[];
  usageSessions: Record<string, unknown>[];
  rules: Record<string, unknown>[];
  clients: Record<string, unknown>[];
  clientActors: Record<string, unknown>[];
  tokens: Record<string, unknown>[];
  syncStates: Record<string, unknown>[];
  siteMeta: Record<string, unknown>[];
}

async function openReadOnly(path: string): Promise<Client> {
  const db = createClient({ url: `file:${path}`, intMode: "number", concurrency: 1 });
  await db.execute("PRAGMA query_only = 1");
  await db.execute("PRAGMA busy_timeout = 5000");
  return db;
}

/** Runs queries against the site's database on a read-only connection. */
export async function withSiteDb<T>(path: string, use: (db: Client) => Promise<T>): Promise<T> {
  const db = await openReadOnly(path);
  try {
    return await use(db);
  } finally {
    db.close();
  }
}

async function rows(db: Client, sql: string): Promise<Record<string, unknown>[]> {
  const result = await db.execute(sql);
  return result.rows.map((row) => Object.fromEntries(result.columns.map((c) => [c, row[c]])));
}

export function snapshotTables(path: string): Promise<TablesSnapshot> {
  return withSiteDb(path, async (db) => {
    const [count] = await rows(
      db,
      "SELECT count(*) AS count, coalesce(sum(length(bytes)), 0) AS bytes FROM doc_chunks",
    );
    return {
      docs: await rows(db, "SELECT * FROM docs ORDER BY doc_id"),
      docChunks: { count: count.count as number, bytes: count.bytes as number },
      docChunkRows: await rows(
        db,
        "SELECT id, doc_id, hex(bytes) AS bytes FROM doc_chunks ORDER BY id",
      ),
      usageSessions: await rows(db, "SELECT * FROM usage_sessions ORDER BY client_id, session_id"),
      rules: await rows(db, "SELECT * FROM rules ORDER BY id"),
      clients: await rows(db, "SELECT * FROM clients ORDER BY client_id"),
      clientActors: await rows(db, "SELECT * FROM client_actors ORDER BY actor"),
      tokens: await rows(db, "SELECT * FROM tokens ORDER BY id"),
      syncStates: await rows(
        db,
        "SELECT peer, doc_id, hex(state) AS state FROM sync_states ORDER BY peer, doc_id",
      ),
      siteMeta: await rows(db, "SELECT * FROM site_meta ORDER BY key"),
    };
  });
}

/** The stored `docs` row of one document, or `undefined`. */
export function storedDoc(path: string, docId: string) {
  return withSiteDb(path, async (db) => {
    const result = await db.execute({ sql: "SELECT * FROM docs WHERE doc_id = ?", args: [docId] });
    return result.rows[0] ? { heads: result.rows[0].heads as string } : undefined;
  });
}

/** The stored bytes of a document (its chunks, concatenated), or `undefined`. */
export function storedDocBytes(path: string, docId: string): Promise<Uint8Array | undefined> {
  return withSiteDb(path, (db) => new DocStore(db).bytes(docId));
}

/**
 * A snapshot taken after the site has flushed its in-memory last sync times
 * (`GET /v1/clients` flushes them), so that only requests change it.
 */
export async function settledSnapshot(
  url: string,
  token: string,
  path: string,
): Promise<TablesSnapshot> {
  const response = await fetch(new URL("/v1/clients", url), {
    headers: { authorization: `Bearer ${token}` },
  });
  if (!response.ok) throw new Error(`clients: ${response.status} ${await response.text()}`);
  await response.body?.cancel();
  return await snapshotTables(path);
}
