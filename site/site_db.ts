/**
 * The site's libSQL schema: the document store and sync states from `store/`,
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
import { CLIENTS_ADDED_COLUMNS, clientsSchema } from "./clients/clients_table.ts";
import { clientSecretsSchema, moveClientSecrets } from "./clients/client_secrets_table.ts";
import { SESSIONS_ADDED_COLUMNS, sessionsSchema } from "./usage/sessions_table.ts";
import { addMissingColumns, hasColumn } from "../store/added_columns.ts";

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
  ...clientsSchema,
  ...clientSecretsSchema,
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
  ...sessionsSchema,
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
  ...CLIENTS_ADDED_COLUMNS,
  ...SESSIONS_ADDED_COLUMNS,
  // Presence read before zones were kept: UTC, as the time-of-day report took it.
  ["local_presence", "time_zone", "TEXT NOT NULL DEFAULT 'UTC'"],
  ["audit_log", "count", "INTEGER NOT NULL DEFAULT 1"],
  ["audit_log", "last_at", "INTEGER"],
] as const;

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
