/**
 * Opening a libSQL database for Meter: an embedded file by default, or a
 * libSQL server (`libsql://`, `http://`, `https://`).
 *
 * Writes go through {@linkcode Client.batch} so that every multi-statement
 * change is one transaction. For embedded files the client keeps a single
 * connection, so the per-connection pragmas set here hold for every call.
 *
 * @module
 */
import { type Client, createClient, type InStatement } from "@libsql/client";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { reusePreparedStatements } from "./statement_cache.ts";

export type { Client, InStatement };

/** Turns a plain path into a `file:` URL and creates its folder. */
export function databaseUrl(pathOrUrl: string): string {
  if (/^(file|libsql|https?|wss?):/.test(pathOrUrl)) return pathOrUrl;
  mkdirSync(dirname(pathOrUrl), { recursive: true });
  return `file:${pathOrUrl}`;
}

/** The URL for logs and output, with any `authToken` in it hidden. */
export function shownDatabaseUrl(pathOrUrl: string): string {
  return pathOrUrl.replace(/([?&]authToken=)[^&]*/gi, "$1***");
}

/**
 * Opens the database and applies the schema statements (each must be
 * idempotent, e.g. `CREATE TABLE IF NOT EXISTS`).
 */
export interface DatabaseOptions {
  authToken?: string;
  /** Page cache in MiB (embedded files); a site wants more than an agent. */
  cacheMiB?: number;
  /** WAL pages written before a checkpoint; larger batches the checkpoint's fsync. */
  walAutocheckpointPages?: number;
}

export async function openDatabase(
  pathOrUrl: string,
  schema: readonly string[],
  { authToken, cacheMiB = 2, walAutocheckpointPages = 1000 }: DatabaseOptions = {},
): Promise<Client> {
  const url = databaseUrl(pathOrUrl);
  reusePreparedStatements();
  const db = createClient({ url, authToken, concurrency: 1, intMode: "number" });
  if (url.startsWith("file:")) {
    // WAL lets readers run beside the writer; NORMAL syncs at checkpoints,
    // which keeps commits cheap while a crash still loses no committed data
    // except the last transactions before a power cut.
    await db.execute("PRAGMA journal_mode = WAL");
    await db.execute("PRAGMA synchronous = NORMAL");
    await db.execute("PRAGMA busy_timeout = 5000");
    await db.execute(`PRAGMA cache_size = ${-Math.round(cacheMiB * 1024)}`);
    await db.execute(`PRAGMA wal_autocheckpoint = ${walAutocheckpointPages}`);
  }
  await db.batch(schema.map((sql) => ({ sql, args: [] })), "write");
  return db;
}
