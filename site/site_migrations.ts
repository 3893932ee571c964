/**
 * The site database's schema versions: step `i` of {@linkcode SITE_MIGRATIONS}
 * takes a database from version `i` to `i + 1` (`store/schema_migrations.ts`
 * says how they run and how to write one).
 *
 * Steps 1 to 3 take the shapes Meter wrote before it kept versions (0.1.0
 * and the builds before it, all at version 0), each looking at what it finds:
 *
 * 1. `client_secrets`: agents' secret hashes move out of `clients`, which
 *    queries may read, into `client_secrets`.
 * 2. `added_columns`: the columns added since the first tables (clock
 *    offsets, a session's language, the zone of presence, audit counts).
 * 3. `zoned_cells`: the local-hour tables get the time zone in their key.
 *
 * A database 0.1.0 wrote already has all three shapes, and goes to version 3
 * changing nothing but the version. Each step spells out the tables it makes,
 * so a later change to the current schema does not change what it does.
 *
 * @module
 */
import type { Transaction } from "../store/db.ts";
import { hasColumn, type Migration, tableExists } from "../store/schema_migrations.ts";

/** `[table, column, type]` as `ALTER TABLE ... ADD COLUMN` takes them. */
const ADDED_COLUMNS = [
  ["clients", "clock_offset_ms", "INTEGER"],
  ["clients", "clock_checked_at", "INTEGER"],
  ["usage_sessions", "clock_offset_ms", "INTEGER NOT NULL DEFAULT 0"],
  ["usage_sessions", "language", "TEXT"],
  // Presence read before zones were kept: UTC, as the time-of-day report took it.
  ["local_presence", "time_zone", "TEXT NOT NULL DEFAULT 'UTC'"],
  ["audit_log", "count", "INTEGER NOT NULL DEFAULT 1"],
  ["audit_log", "last_at", "INTEGER"],
] as const;

/** The local-hour tables as step 3 makes them, and their columns but the zone. */
const ZONED_CELLS = [
  [
    "local_hour_users",
    `CREATE TABLE local_hour_users (
      rule_id TEXT NOT NULL,
      local_date TEXT NOT NULL,
      local_hour INTEGER NOT NULL,
      weekday INTEGER NOT NULL,
      users INTEGER NOT NULL,
      time_zone TEXT NOT NULL,
      PRIMARY KEY (rule_id, local_date, local_hour, time_zone)
    ) WITHOUT ROWID`,
    "rule_id, local_date, local_hour, weekday, users",
  ],
  [
    "site_local_hour_users",
    `CREATE TABLE site_local_hour_users (
      site_code TEXT NOT NULL,
      rule_id TEXT NOT NULL,
      local_date TEXT NOT NULL,
      local_hour INTEGER NOT NULL,
      weekday INTEGER NOT NULL,
      users INTEGER NOT NULL,
      time_zone TEXT NOT NULL,
      PRIMARY KEY (rule_id, local_date, local_hour, time_zone, site_code)
    ) WITHOUT ROWID`,
    "site_code, rule_id, local_date, local_hour, weekday, users",
  ],
] as const;

/** Moves secret hashes out of a `clients` table made before `client_secrets` existed. */
async function moveClientSecrets(tx: Transaction): Promise<void> {
  if (!await hasColumn(tx, "clients", "secret_hash")) return;
  await tx.batch([
    `CREATE TABLE IF NOT EXISTS client_secrets (
      client_id TEXT PRIMARY KEY REFERENCES clients (client_id),
      secret_hash TEXT NOT NULL
    )`,
    `INSERT OR IGNORE INTO client_secrets (client_id, secret_hash)
      SELECT client_id, secret_hash FROM clients`,
    "ALTER TABLE clients DROP COLUMN secret_hash",
  ]);
}

/** Adds each column its table lacks (a table not there yet is made whole later). */
async function addColumns(tx: Transaction): Promise<void> {
  for (const [table, column, type] of ADDED_COLUMNS) {
    if (!await tableExists(tx, table) || await hasColumn(tx, table, column)) continue;
    await tx.execute(`ALTER TABLE ${table} ADD COLUMN ${column} ${type}`);
  }
}

/**
 * Local-hour tables made before the time zone was part of their key are made
 * again with it (a key cannot be altered in place); the rows they held read as
 * UTC, which is how the time-of-day report took every row then.
 */
async function keyCellsByZone(tx: Transaction): Promise<void> {
  for (const [table, schema, columns] of ZONED_CELLS) {
    if (!await tableExists(tx, table) || await hasColumn(tx, table, "time_zone")) continue;
    await tx.batch([
      `ALTER TABLE ${table} RENAME TO ${table}_unzoned`,
      schema,
      `INSERT INTO ${table} (${columns}, time_zone) SELECT ${columns}, 'UTC' FROM ${table}_unzoned`,
      `DROP TABLE ${table}_unzoned`,
    ]);
  }
}

/** Every step, in order: never reorder or edit one that was released. */
export const SITE_MIGRATIONS: readonly Migration[] = [
  { name: "client_secrets", run: moveClientSecrets },
  { name: "added_columns", run: addColumns },
  { name: "zoned_cells", run: keyCellsByZone },
];
