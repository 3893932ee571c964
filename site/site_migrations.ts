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
 * changing nothing but the version.
 *
 * 4. `hours_in_days`: the local hours a user ran a program in move from a row
 *    per hour (`local_presence` and its two indexes, half of a large site's
 *    file) onto the day's `daily_usage` row, and their union per user into
 *    `local_user_hours`; `daily_usage` is keyed by day first.
 * 5. `session_programs`: a session names its program (executable, argv[0],
 *    version, language) by id in `session_programs` instead of holding the
 *    four strings.
 * 6. `session_names`: a session names its computer and user by id too
 *    (`session_clients`, `session_users`); the rows move to `session_rows`,
 *    and `usage_sessions` becomes the view that shows them with the names.
 *
 * Each step spells out the tables it makes,
 * so a later change to the current schema does not change what it does.
 *
 * @module
 */
import type { Transaction } from "../store/db.ts";
import { hasColumn, type Migration, tableExists } from "../store/schema_migrations.ts";
import { log } from "../lib/log.ts";

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

/** `daily_usage` as step 4 makes it: keyed by day first, with the day's local hours. */
const DAILY_USAGE_4 = `CREATE TABLE daily_usage (
    client_id TEXT NOT NULL,
    day TEXT NOT NULL,
    rule_id TEXT NOT NULL,
    user_name TEXT NOT NULL,
    runs INTEGER NOT NULL,
    run_ms INTEGER NOT NULL,
    last_use_ms INTEGER NOT NULL,
    remote_runs INTEGER NOT NULL,
    remote_run_ms INTEGER NOT NULL,
    time_zone TEXT NOT NULL DEFAULT 'UTC',
    local_hours INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, client_id, rule_id, user_name)
  ) WITHOUT ROWID`;
const DAILY_COLUMNS_3 = "client_id, day, rule_id, user_name, runs, run_ms, last_use_ms, " +
  "remote_runs, remote_run_ms";

/** A presence row's bit in its UTC day's mask (`site/summaries/local_hours_mask.ts`). */
const PRESENCE_BIT = "1 << (CAST(round(julianday(local_date) - julianday(utc_day)) AS INTEGER) " +
  "* 24 + local_hour + 12)";

/**
 * `daily_usage` is made again keyed by day first (its old indexes go with
 * the old table), each row with the hours of its computer's day in
 * `local_presence`; each user's hours per rule, local date and zone go into
 * `local_user_hours`; then `local_presence` goes. Each hour of a group is a
 * distinct power of two, so `sum(DISTINCT ...)` is their union. The counts
 * of `local_hour_users` stay as they are: they count the same hours.
 */
async function hoursIntoDays(tx: Transaction): Promise<void> {
  const presence = await tableExists(tx, "local_presence");
  if (await tableExists(tx, "daily_usage")) {
    const hours = presence
      ? `LEFT JOIN (SELECT client_id, utc_day, rule_id, user_name, max(time_zone) AS zone,
          sum(DISTINCT ${PRESENCE_BIT}) AS hours FROM local_presence
          GROUP BY client_id, utc_day, rule_id, user_name) p
        ON p.client_id = d.client_id AND p.utc_day = d.day AND p.rule_id = d.rule_id
          AND p.user_name = d.user_name`
      : "LEFT JOIN (SELECT NULL AS zone, NULL AS hours) p ON false";
    await tx.batch([
      "ALTER TABLE daily_usage RENAME TO daily_usage_before_4",
      DAILY_USAGE_4,
      `INSERT INTO daily_usage (${DAILY_COLUMNS_3}, time_zone, local_hours)
        SELECT ${DAILY_COLUMNS_3.split(", ").map((c) => `d.${c}`).join(", ")},
          coalesce(p.zone, 'UTC'), coalesce(p.hours, 0)
        FROM daily_usage_before_4 d ${hours}`,
      "DROP TABLE daily_usage_before_4",
    ]);
  }
  if (!presence) return;
  await tx.batch([
    `CREATE TABLE IF NOT EXISTS local_user_hours (
      rule_id TEXT NOT NULL,
      local_date TEXT NOT NULL,
      time_zone TEXT NOT NULL,
      user_name TEXT NOT NULL,
      hours INTEGER NOT NULL,
      PRIMARY KEY (rule_id, local_date, time_zone, user_name)
    ) WITHOUT ROWID`,
    `INSERT INTO local_user_hours (rule_id, local_date, time_zone, user_name, hours)
      SELECT rule_id, local_date, time_zone, user_name, sum(DISTINCT 1 << local_hour)
      FROM local_presence GROUP BY rule_id, local_date, time_zone, user_name`,
    "DROP TABLE local_presence",
  ]);
}

/** `usage_sessions` and `session_programs` as step 5 makes them. */
const USAGE_SESSIONS_5 = `CREATE TABLE usage_sessions (
    client_id TEXT NOT NULL,
    session_id TEXT NOT NULL,
    rule_id TEXT NOT NULL,
    user_name TEXT NOT NULL,
    program_id INTEGER NOT NULL,
    pid INTEGER NOT NULL,
    start_ms INTEGER NOT NULL,
    end_ms INTEGER,
    start_not_captured INTEGER NOT NULL,
    end_not_captured INTEGER NOT NULL,
    remote INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    clock_offset_ms INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (client_id, session_id)
  )`;
const SESSION_PROGRAMS_5 = `CREATE TABLE session_programs (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    exe TEXT NOT NULL,
    argv0 TEXT NOT NULL,
    version TEXT,
    language TEXT
  )`;
/** The columns step 5 keeps as they were. */
const KEPT_5 = ["client_id", "session_id", "rule_id", "user_name"];
const KEPT_AFTER_5 = [
  "pid",
  "start_ms",
  "end_ms",
  "start_not_captured",
  "end_not_captured",
  "remote",
  "updated_at",
  "clock_offset_ms",
];

/**
 * Each session names its program by id: the distinct programs go into
 * `session_programs`, and `usage_sessions` is made again without the four
 * strings (its indexes go with the old table and are made again after).
 */
async function programsOfSessions(tx: Transaction): Promise<void> {
  if (!await tableExists(tx, "usage_sessions")) return;
  if (await hasColumn(tx, "usage_sessions", "program_id")) return;
  const key = (t: string) => `json_array(${t}.exe, ${t}.argv0, ${t}.version, ${t}.language)`;
  const of = (columns: string[]) => columns.map((c) => `s.${c}`).join(", ");
  await tx.batch([
    SESSION_PROGRAMS_5,
    `INSERT OR IGNORE INTO session_programs (key, exe, argv0, version, language)
      SELECT DISTINCT ${key("s")}, s.exe, s.argv0, s.version, s.language FROM usage_sessions s`,
    "ALTER TABLE usage_sessions RENAME TO usage_sessions_before_5",
    USAGE_SESSIONS_5,
    `INSERT INTO usage_sessions (${[...KEPT_5, "program_id", ...KEPT_AFTER_5].join(", ")})
      SELECT ${of(KEPT_5)}, p.id, ${of(KEPT_AFTER_5)} FROM usage_sessions_before_5 s
      JOIN session_programs p ON p.key = ${key("s")}`,
    "DROP TABLE usage_sessions_before_5",
  ]);
}

/** The tables step 6 makes. */
const SESSION_CLIENTS_6 = `CREATE TABLE session_clients (
    id INTEGER PRIMARY KEY,
    client_id TEXT NOT NULL UNIQUE
  )`;
const SESSION_USERS_6 = `CREATE TABLE session_users (
    id INTEGER PRIMARY KEY,
    user_name TEXT NOT NULL UNIQUE
  )`;
const SESSION_ROWS_6 = `CREATE TABLE session_rows (
    client_key INTEGER NOT NULL,
    session_id TEXT NOT NULL,
    rule_id TEXT NOT NULL,
    user_key INTEGER NOT NULL,
    program_id INTEGER NOT NULL,
    pid INTEGER NOT NULL,
    start_ms INTEGER NOT NULL,
    end_ms INTEGER,
    start_not_captured INTEGER NOT NULL,
    end_not_captured INTEGER NOT NULL,
    remote INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    clock_offset_ms INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (client_key, session_id)
  )`;
/** The columns step 6 copies as they are, after the session id. */
const KEPT_6 = ["session_id", "rule_id"];
const KEPT_AFTER_6 = ["program_id", ...KEPT_AFTER_5];

/** Rows step 6 copies per statement, between lines of progress. */
const COPY_CHUNK = 500_000;

/**
 * Each session names its computer and user by id: the distinct names go into
 * `session_clients` and `session_users`, and the rows into `session_rows`.
 * The old table goes with its indexes; the current schema then makes the
 * indexes on `session_rows` and the view `usage_sessions`. A large site
 * copies millions of rows here, so the copy goes in chunks of rowids, each
 * followed by a line of progress.
 */
async function namesOfSessions(tx: Transaction): Promise<void> {
  if (!await tableExists(tx, "usage_sessions")) return;
  const of = (columns: string[]) => columns.map((c) => `s.${c}`).join(", ");
  await tx.batch([
    SESSION_CLIENTS_6,
    SESSION_USERS_6,
    "INSERT INTO session_clients (client_id) SELECT DISTINCT client_id FROM usage_sessions",
    "INSERT INTO session_users (user_name) SELECT DISTINCT user_name FROM usage_sessions",
    SESSION_ROWS_6,
  ]);
  const last = Number((await tx.execute("SELECT max(rowid) FROM usage_sessions")).rows[0][0] ?? 0);
  for (let from = 1; from <= last; from += COPY_CHUNK) {
    await tx.execute({
      sql: `INSERT INTO session_rows (client_key, ${KEPT_6.join(", ")}, user_key, ${
        KEPT_AFTER_6.join(", ")
      })
        SELECT c.id, ${of(KEPT_6)}, u.id, ${of(KEPT_AFTER_6)} FROM usage_sessions s
        JOIN session_clients c ON c.client_id = s.client_id
        JOIN session_users u ON u.user_name = s.user_name
        WHERE s.rowid >= ? AND s.rowid < ?`,
      args: [from, from + COPY_CHUNK],
    });
    if (last > COPY_CHUNK) {
      log.info("database migrating", {
        step: "session_names",
        done: Math.min(last, from + COPY_CHUNK - 1),
        of: last,
      });
    }
  }
  await tx.execute("DROP TABLE usage_sessions");
}

/** Every step, in order: never reorder or edit one that was released. */
export const SITE_MIGRATIONS: readonly Migration[] = [
  { name: "client_secrets", run: moveClientSecrets },
  { name: "added_columns", run: addColumns },
  { name: "zoned_cells", run: keyCellsByZone },
  { name: "hours_in_days", run: hoursIntoDays },
  { name: "session_programs", run: programsOfSessions },
  { name: "session_names", run: namesOfSessions },
];
