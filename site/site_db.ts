/**
 * The site's libSQL schema: the document store and sync states from `store/`,
 * and the query-side tables materialised from documents (`rules`,
 * `usage_sessions`, `clients`), plus tokens and the site's own identity.
 *
 * Secrets live apart from what may be shown: an agent's secret hash is in
 * `client_secrets`, not in `clients`, so `clients` can be offered to
 * queries as it is. A database made before that split, or before local-hour
 * users were kept per time zone, is moved over by its numbered migrations
 * (`site_migrations.ts`) when it is opened.
 *
 * @module
 */
import type { Client } from "../store/db.ts";
import { localDatabaseFile, openDatabase } from "../store/db.ts";
import { releaseWithClose, shareDatabase } from "../store/database_lock.ts";
import { ownerOnlyDatabase } from "../store/owner_only_database.ts";
import { docStoreSchema } from "../store/doc_store.ts";
import { KeyValueTable } from "../store/key_value_table.ts";
import { syncStateSchema } from "../store/sync_state_store.ts";
import { summarySchema } from "./summaries/summary_schema.ts";
import { auditSchema } from "./access/audit_log.ts";
import { childSitesSchema } from "./hierarchy/child_sites.ts";
import { knownSitesSchema } from "./hierarchy/known_sites.ts";
import { descendantCredentialsSchema } from "./hierarchy/client_credentials.ts";
import { summaryOutboxSchema } from "./summaries/summary_outbox.ts";
import { summaryShardsSchema } from "./hierarchy/summary_publisher.ts";
import { descendantSummarySchema } from "./hierarchy/summary_materializer.ts";
import { softwareSchema } from "./inventory/software_schema.ts";
import { collectionsSchema } from "./collections/collection_store.ts";
import { clientsSchema } from "./clients/clients_table.ts";
import { clientSecretsSchema } from "./clients/client_secrets_table.ts";
import { sessionsSchema } from "./usage/sessions_table.ts";
import { licencesSchema } from "./licences/licences_table.ts";
import { licenceFiguresSchema } from "./licences/licence_figures_schema.ts";
import { licenceAlertsSchema } from "./licences/licence_alerts.ts";
import type { VersionedSchema } from "../store/schema_migrations.ts";
import { SITE_MIGRATIONS } from "./site_migrations.ts";

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
  ...licencesSchema,
  ...licenceFiguresSchema,
  ...licenceAlertsSchema,
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

/** The site's schema, with the steps that bring an older database to it. */
export const SITE_SCHEMA: VersionedSchema = {
  database: "site",
  statements: siteSchema,
  migrations: SITE_MIGRATIONS,
};

/** The schema version this Meter writes; a newer database is refused. */
export const SITE_SCHEMA_VERSION = SITE_MIGRATIONS.length;

/**
 * SQLite's page cache of the site's connection, in MiB. The reports at 18
 * million sessions (p95 at most 128 ms) were measured with it; at 50,000
 * agents it is about 50 MB of the site's resident memory, which a smaller
 * cache (`dbCacheMiB`) gives back for slower reads of what it no longer holds.
 */
export const DEFAULT_SITE_CACHE_MIB = 64;

/**
 * Opens (or creates) the site's database, migrating an older one; an
 * embedded file is its owner's only. While it is open, its lock file is held
 * shared, so that `meter site restore` does not replace it meanwhile
 * (`store/database_lock.ts`).
 */
export async function openSiteDatabase(
  pathOrUrl: string,
  authToken?: string,
  cacheMiB = DEFAULT_SITE_CACHE_MIB,
): Promise<Client> {
  const file = localDatabaseFile(pathOrUrl);
  // Its folder first (with the errors that name it), for the lock file beside it.
  if (file !== undefined) await ownerOnlyDatabase(file);
  const lock = file === undefined ? undefined : await shareDatabase(file);
  try {
    const db = await openDatabase(pathOrUrl, SITE_SCHEMA, {
      authToken,
      cacheMiB,
      walAutocheckpointPages: 10_000,
    });
    return lock ? releaseWithClose(db, lock) : db;
  } catch (error) {
    lock?.close();
    throw error;
  }
}
