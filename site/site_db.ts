/**
 * The site's libSQL schema: the document store and sync states from `sync/`,
 * and the query-side tables materialised from documents (`rules`,
 * `usage_sessions`, `clients`), plus tokens and the site's own identity.
 *
 * Secrets live apart from what may be shown: an agent's secret hash is in
 * `client_secrets`, not in `clients`, so `clients` can be offered to
 * queries as it is. A database made before that split is moved over when it
 * is opened, as is one made before local-hour users were kept per time zone.
 *
 * @module
 */
import type { Client } from "../store/db.ts";
import { openDatabase } from "../store/db.ts";
import { docStoreSchema } from "../store/doc_store.ts";
import { KeyValueTable } from "../store/key_value_table.ts";
import { syncStateSchema } from "../store/sync_state_store.ts";
import { LOCAL_HOUR_USERS_TABLE, summarySchema } from "./summaries/summary_schema.ts";
import { auditSchema } from "./access/audit_log.ts";
import { childSitesSchema } from "./hierarchy/child_sites.ts";
import { knownSitesSchema } from "./hierarchy/known_sites.ts";
import { descendantCredentialsSchema } from "./hierarchy/client_credentials.ts";
import { summaryOutboxSchema } from "./summaries/summary_outbox.ts";
import { summaryShardsSchema } from "./hierarchy/summary_publisher.ts";
import {
  descendantSummarySchema,
  SITE_LOCAL_HOUR_USERS_TABLE,
} from "./hierarchy/summary_materializer.ts";
import { softwareSchema } from "./inventory/software_schema.ts";
import { collectionsSchema } from "./collections/collection_store.ts";

export const siteSchema = [
  ...docStoreSchema,
  ...syncStateSchema,
  KeyValueTable.schema("site_meta"),
  `CREATE TABLE IF NOT EXISTS tokens (
    id TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    label TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    revoked_at INTEGER,
    uses_left INTEGER,
    last_used_at INTEGER
  )`,
  `CREATE TABLE IF NOT EXISTS clients (
    client_id TEXT PRIMARY KEY,
    host_name TEXT NOT NULL DEFAULT '',
    os_name TEXT NOT NULL DEFAULT '',
    os_version TEXT NOT NULL DEFAULT '',
    kernel TEXT NOT NULL DEFAULT '',
    arch TEXT NOT NULL DEFAULT '',
    time_zone TEXT NOT NULL DEFAULT 'UTC',
    agent_version TEXT NOT NULL DEFAULT '',
    enrolled_at INTEGER NOT NULL,
    enrolled_with TEXT NOT NULL,
    last_sync_at INTEGER,
    last_usage_at INTEGER,
    clock_offset_ms INTEGER,
    clock_checked_at INTEGER
  )`,
  `CREATE TABLE IF NOT EXISTS client_secrets (
    client_id TEXT PRIMARY KEY REFERENCES clients (client_id),
    secret_hash TEXT NOT NULL
  )`,
  `CREATE TABLE IF NOT EXISTS client_actors (
    actor TEXT PRIMARY KEY,
    client_id TEXT NOT NULL REFERENCES clients (client_id)
  )`,
  `CREATE TABLE IF NOT EXISTS rules (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    file_name TEXT,
    original_file_name TEXT,
    sha256 TEXT,
    version TEXT NOT NULL,
    language TEXT,
    site_code TEXT NOT NULL,
    apply_to_child_sites INTEGER NOT NULL,
    enabled INTEGER NOT NULL,
    comment TEXT NOT NULL,
    origin TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  )`,
  `CREATE TABLE IF NOT EXISTS usage_sessions (
    client_id TEXT NOT NULL,
    session_id TEXT NOT NULL,
    rule_id TEXT NOT NULL,
    user_name TEXT NOT NULL,
    exe TEXT NOT NULL,
    argv0 TEXT NOT NULL,
    version TEXT,
    pid INTEGER NOT NULL,
    start_ms INTEGER NOT NULL,
    end_ms INTEGER,
    start_not_captured INTEGER NOT NULL,
    end_not_captured INTEGER NOT NULL,
    remote INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    clock_offset_ms INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (client_id, session_id)
  )`,
  // Every agent request looks up its client's actors: without it, a scan of all of them.
  `CREATE INDEX IF NOT EXISTS client_actors_by_client ON client_actors (client_id)`,
  `CREATE INDEX IF NOT EXISTS usage_by_start ON usage_sessions (start_ms)`,
  `CREATE INDEX IF NOT EXISTS usage_by_rule ON usage_sessions (rule_id, start_ms)`,
  `CREATE INDEX IF NOT EXISTS usage_by_user ON usage_sessions (user_name, start_ms)`,
  ...summarySchema,
  ...collectionsSchema,
  ...softwareSchema,
  ...childSitesSchema,
  ...knownSitesSchema,
  ...summaryOutboxSchema,
  ...summaryShardsSchema,
  ...descendantSummarySchema,
  ...descendantCredentialsSchema,
  ...auditSchema,
] as const;

/** Opens (or creates) the site's database; an embedded file is its owner's only. */
export async function openSiteDatabase(pathOrUrl: string, authToken?: string): Promise<Client> {
  const db = await openDatabase(pathOrUrl, siteSchema, {
    authToken,
    cacheMiB: 64,
    walAutocheckpointPages: 10_000,
  });
  await moveClientSecrets(db);
  await addMissingColumns(db, ADDED_COLUMNS);
  await keyCellsByZone(db);
  return db;
}

/** Columns added after the first release, for databases made before them. */
const ADDED_COLUMNS = [
  ["clients", "clock_offset_ms", "INTEGER"],
  ["clients", "clock_checked_at", "INTEGER"],
  ["usage_sessions", "clock_offset_ms", "INTEGER NOT NULL DEFAULT 0"],
  // Presence read before zones were kept: UTC, as the time-of-day report took it.
  ["local_presence", "time_zone", "TEXT NOT NULL DEFAULT 'UTC'"],
  ["audit_log", "count", "INTEGER NOT NULL DEFAULT 1"],
  ["audit_log", "last_at", "INTEGER"],
] as const;

async function hasColumn(db: Client, table: string, column: string): Promise<boolean> {
  const has = await db.execute({
    sql: `SELECT 1 FROM pragma_table_info('${table}') WHERE name = ?`,
    args: [column],
  });
  return has.rows.length > 0;
}

async function addMissingColumns(
  db: Client,
  columns: readonly (readonly [string, string, string])[],
): Promise<void> {
  for (const [table, column, type] of columns) {
    if (!await hasColumn(db, table, column)) {
      await db.execute(`ALTER TABLE ${table} ADD COLUMN ${column} ${type}`);
    }
  }
}

/** The local-hour tables, their schema, and their columns other than the time zone. */
const ZONED_CELLS = [
  ["local_hour_users", LOCAL_HOUR_USERS_TABLE, "rule_id, local_date, local_hour, weekday, users"],
  [
    "site_local_hour_users",
    SITE_LOCAL_HOUR_USERS_TABLE,
    "site_code, rule_id, local_date, local_hour, weekday, users",
  ],
] as const;

/**
 * Local-hour tables made before the time zone was part of their key are made
 * again with it (a key cannot be altered in place); the rows they held read as
 * UTC, which is how the time-of-day report took every row then.
 */
async function keyCellsByZone(db: Client): Promise<void> {
  for (const [table, schema, columns] of ZONED_CELLS) {
    if (await hasColumn(db, table, "time_zone")) continue;
    await db.batch([
      `ALTER TABLE ${table} RENAME TO ${table}_unzoned`,
      schema,
      `INSERT INTO ${table} (${columns}, time_zone) SELECT ${columns}, 'UTC' FROM ${table}_unzoned`,
      `DROP TABLE ${table}_unzoned`,
    ], "write");
  }
}

/** Moves secret hashes out of a `clients` table made before `client_secrets` existed. */
async function moveClientSecrets(db: Client): Promise<void> {
  const old = await db.execute(
    "SELECT 1 FROM pragma_table_info('clients') WHERE name = 'secret_hash'",
  );
  if (old.rows.length === 0) return;
  await db.batch([
    `INSERT OR IGNORE INTO client_secrets (client_id, secret_hash)
      SELECT client_id, secret_hash FROM clients`,
    "ALTER TABLE clients DROP COLUMN secret_hash",
  ], "write");
}
