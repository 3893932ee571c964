/**
 * Opening a libSQL database for Meter: an embedded file by default, or a
 * libSQL server (`libsql://`, `http://`, `https://`).
 *
 * Writes go through {@linkcode Client.batch} so that every multi-statement
 * change is one transaction. For embedded files the client keeps a single
 * connection, so the per-connection pragmas set here hold for every call.
 * An embedded file, with its WAL and shared-memory files, is its owner's
 * only (`owner_only_database.ts`). A site's or agent's database carries a
 * schema version and is migrated when opened (`schema_migrations.ts`).
 *
 * @module
 */
import { type Client, createClient, type InStatement, type Transaction } from "@libsql/client";
import { dirname } from "node:path";
import { ownerOnlyDatabase } from "./owner_only_database.ts";
import { reusePreparedStatements } from "./statement_cache.ts";
import {
  applyVersionedSchema,
  NewerDatabaseError,
  refuseNewer,
  type VersionedSchema,
} from "./schema_migrations.ts";

export type { Client, InStatement, Transaction };

/** Turns a plain path into a `file:` URL. */
export function databaseUrl(pathOrUrl: string): string {
  if (/^(file|libsql|https?|wss?):/.test(pathOrUrl)) return pathOrUrl;
  return `file:${pathOrUrl}`;
}

/**
 * The file of an embedded database (a plain path or `file:` URL); `undefined`
 * for a server or an in-memory database.
 */
export function localDatabaseFile(pathOrUrl: string): string | undefined {
  if (/^(libsql|https?|wss?):/.test(pathOrUrl) || pathOrUrl.startsWith("file://")) {
    return undefined;
  }
  const file = pathOrUrl.replace(/^file:/, "").replace(/\?.*$/, "");
  return file === ":memory:" || file === "" ? undefined : file;
}

/** The URL for logs and output, with any `authToken` in it hidden. */
export function shownDatabaseUrl(pathOrUrl: string): string {
  return pathOrUrl.replace(/([?&]authToken=)[^&]*/gi, "$1***");
}

/** SQLite's default page size, which Meter's databases keep. */
const PAGE_BYTES = 4096;

export interface DatabaseOptions {
  authToken?: string;
  /** Page cache in MiB (embedded files); a site wants more than an agent. */
  cacheMiB?: number;
  /** WAL pages written before a checkpoint; larger batches the checkpoint's fsync. */
  walAutocheckpointPages?: number;
}

/**
 * Opens the database and applies its schema: plain statements (each must be
 * idempotent, e.g. `CREATE TABLE IF NOT EXISTS`), or a versioned schema,
 * which migrates an older database and refuses a newer one before changing
 * anything in it.
 */
export async function openDatabase(
  pathOrUrl: string,
  schema: readonly string[] | VersionedSchema,
  { authToken, cacheMiB = 2, walAutocheckpointPages = 1000 }: DatabaseOptions = {},
): Promise<Client> {
  const url = databaseUrl(pathOrUrl);
  const file = localDatabaseFile(pathOrUrl);
  if (file !== undefined) await ownerOnlyDatabase(file);
  reusePreparedStatements();
  let db: Client | undefined;
  try {
    db = createClient({ url, authToken, concurrency: 1, intMode: "number" });
    const versioned = "migrations" in schema ? schema : undefined;
    const embedded = url.startsWith("file:");
    if (embedded) await db.execute("PRAGMA busy_timeout = 5000");
    // Before anything below can write to it.
    if (versioned) await refuseNewer(db, versioned, shownDatabaseUrl(pathOrUrl));
    if (embedded) {
      // WAL lets readers run beside the writer; NORMAL syncs at checkpoints,
      // which keeps commits cheap while a crash still loses no committed data
      // except the last transactions before a power cut.
      await db.execute("PRAGMA journal_mode = WAL");
      await db.execute("PRAGMA synchronous = NORMAL");
      await db.execute(`PRAGMA cache_size = ${-Math.round(cacheMiB * 1024)}`);
      await db.execute(`PRAGMA wal_autocheckpoint = ${walAutocheckpointPages}`);
      // A long transaction (a summaries rebuild, a migration) grows the WAL far
      // past a checkpoint's worth, and SQLite keeps the file at its largest
      // unless told: 290 MB on a site of 18 million sessions, held for nothing.
      // Once checkpointed it is cut back to two checkpoints' worth of pages.
      await db.execute(`PRAGMA journal_size_limit = ${walAutocheckpointPages * 2 * PAGE_BYTES}`);
    }
    if (versioned) await applyVersionedSchema(db, versioned, shownDatabaseUrl(pathOrUrl));
    else await db.batch((schema as readonly string[]).map((sql) => ({ sql, args: [] })), "write");
  } catch (error) {
    db?.close();
    throw error instanceof NewerDatabaseError ? error : cannotOpen(pathOrUrl, error);
  }
  return db;
}

/**
 * SQLite says only "unable to open" (code 14) or "readonly database" (code
 * 8); what an operator can do about either is make the file and its folder
 * writable: the folder, because SQLite creates its write-ahead log and
 * shared-memory files beside the database.
 */
function cannotOpen(pathOrUrl: string, error: unknown): Error {
  const message = (error as Error).message;
  const file = localDatabaseFile(pathOrUrl);
  const access = /unable to open|readonly|read-only|permission|: (8|14)\b/i.test(message);
  const fix = file && access
    ? `; ${file} and its folder ${dirname(file)} must be writable by this user`
    : "";
  return new Error(`cannot open the database ${shownDatabaseUrl(pathOrUrl)}: ${message}${fix}`);
}
