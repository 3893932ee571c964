/**
 * The site database's numbered migrations, on databases as earlier Meters
 * left them: `tests/data/schemas/site-0.1.0.db`, written by 0.1.0 itself
 * (`make_fixtures.ts` there says how), and the older shapes 0.1.0 still
 * took, made here with their SQL. Each opens, keeps every row, reaches the
 * latest version, and opening it again changes nothing. Two processes
 * opening one old file at once both open it, and each step runs once.
 */
import { createClient } from "@libsql/client";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { fileURLToPath } from "node:url";
import { openSiteDatabase, SITE_SCHEMA_VERSION } from "../site/site_db.ts";
import { databaseRows, databaseValue } from "./helpers/database_rows.ts";
import { tempDir } from "./helpers/metered_program.ts";

/**
 * Tables a step replaced or reshaped, moving their rows into other tables
 * (`MOVED_INTO`); each has a test of its own of where its rows went.
 */
const MOVED = ["local_presence", "usage_sessions"];
const MOVED_INTO = [
  "local_user_hours",
  "session_programs",
  "session_clients",
  "session_users",
  "session_rows",
];

const FIXTURE = fileURLToPath(new URL("./data/schemas/site-0.1.0.db", import.meta.url));
const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** Shapes before 0.1.0, each with rows in its old tables. */
const OLD_SHAPES: Record<string, string[]> = {
  "before client secrets": [
    `CREATE TABLE clients (client_id TEXT PRIMARY KEY, secret_hash TEXT NOT NULL,
      host_name TEXT NOT NULL DEFAULT '', enrolled_at INTEGER NOT NULL,
      enrolled_with TEXT NOT NULL, last_sync_at INTEGER, last_usage_at INTEGER)`,
    "CREATE TABLE client_actors (actor TEXT PRIMARY KEY, client_id TEXT NOT NULL)",
    `INSERT INTO clients (client_id, secret_hash, host_name, enrolled_at, enrolled_with)
      VALUES ('c1', 'hash-1', 'ws-one', 1, 'tok'), ('c2', 'hash-2', 'ws-two', 2, 'tok')`,
    "INSERT INTO client_actors VALUES ('a1', 'c1'), ('a2', 'c2')",
  ],
  "before time-zone local-hour tables": [
    `CREATE TABLE local_presence (rule_id TEXT NOT NULL, local_date TEXT NOT NULL,
      local_hour INTEGER NOT NULL, user_name TEXT NOT NULL, client_id TEXT NOT NULL,
      utc_day TEXT NOT NULL,
      PRIMARY KEY (rule_id, local_date, local_hour, user_name, client_id, utc_day)) WITHOUT ROWID`,
    `CREATE TABLE local_hour_users (rule_id TEXT NOT NULL, local_date TEXT NOT NULL,
      local_hour INTEGER NOT NULL, weekday INTEGER NOT NULL, users INTEGER NOT NULL,
      PRIMARY KEY (rule_id, local_date, local_hour)) WITHOUT ROWID`,
    "INSERT INTO local_presence VALUES ('S01-1', '2026-11-20', 9, 'ann', 'c1', '2026-11-20')",
    "INSERT INTO local_hour_users VALUES ('S01-1', '2026-11-20', 9, 5, 1)",
  ],
  "before the language column": [
    `CREATE TABLE usage_sessions (client_id TEXT NOT NULL, session_id TEXT NOT NULL,
      rule_id TEXT NOT NULL, user_name TEXT NOT NULL, exe TEXT NOT NULL, argv0 TEXT NOT NULL,
      version TEXT, pid INTEGER NOT NULL, start_ms INTEGER NOT NULL, end_ms INTEGER,
      start_not_captured INTEGER NOT NULL, end_not_captured INTEGER NOT NULL,
      remote INTEGER NOT NULL, updated_at INTEGER NOT NULL,
      PRIMARY KEY (client_id, session_id))`,
    `CREATE TABLE audit_log (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, peer TEXT NOT NULL,
      method TEXT NOT NULL, path TEXT NOT NULL, status INTEGER NOT NULL, code TEXT NOT NULL,
      reason TEXT NOT NULL)`,
    `INSERT INTO usage_sessions VALUES
      ('c1', '2026-11-20/0', 'S01-1', 'ann', '/bin/ed', 'ed', NULL, 1, 10, 20, 0, 0, 0, 20),
      ('c1', '2026-11-20/1', 'S01-1', 'bob', '/bin/ed', 'ed', '1', 2, 30, NULL, 0, 0, 1, 30)`,
    "INSERT INTO audit_log VALUES (1, 5, '127.0.0.1', 'GET', '/v1/x', 401, 'token', 'no token')",
  ],
};

describe("site database migrations", () => {
  let temp: Awaited<ReturnType<typeof tempDir>>;
  beforeAll(async () => {
    temp = await tempDir("meter-site-migrations-");
  });
  afterAll(async () => await temp?.remove());

  async function copyOfFixture(name: string): Promise<string> {
    const path = `${temp.dir}/${name}`;
    await Deno.copyFile(FIXTURE, path);
    return path;
  }

  async function openAndClose(path: string): Promise<void> {
    (await openSiteDatabase(path)).close();
  }

  async function schemaText(path: string): Promise<string[]> {
    const db = createClient({ url: `file:${path}` });
    try {
      const result = await db.execute("SELECT sql FROM sqlite_schema ORDER BY name");
      // Spacing aside: `ALTER TABLE ... ADD COLUMN` writes a column on the line before.
      return result.rows.map((row) => String(row.sql).replace(/\s+/g, " "));
    } finally {
      db.close();
    }
  }

  test("a database 0.1.0 wrote keeps every row and reaches the latest version", async () => {
    const path = await copyOfFixture("release.db");
    const before = await databaseRows(path);
    expect(await databaseValue(path, "PRAGMA user_version")).toBe(0);
    expect(before.usage_sessions).toHaveLength(3);
    expect(before.tokens).toHaveLength(2);
    expect(before.client_secrets).toHaveLength(2);
    expect(before.docs.length).toBeGreaterThan(0);
    expect(before.daily_usage.length).toBeGreaterThan(0);

    await openAndClose(path);
    expect(await databaseValue(path, "PRAGMA user_version")).toBe(SITE_SCHEMA_VERSION);
    expect(keptRows(await databaseRows(path), before)).toEqual(withoutMoved(before));
    expect(await sessionsAsBefore(path, before)).toEqual(before.usage_sessions);
    const schema = await schemaText(path);

    await openAndClose(path);
    expect(keptRows(await databaseRows(path), before)).toEqual(withoutMoved(before));
    expect(await schemaText(path)).toEqual(schema);
  });

  /**
   * The tables of `before` as `after` has them, each row with only the
   * columns it had; tables added since (for features newer than the file)
   * must be there, and empty. A table a step moved elsewhere
   * ({@linkcode MOVED}) is left out: its own test checks where its rows went.
   */
  function keptRows(after: Record<string, string[]>, before: Record<string, string[]>) {
    for (const [table, rows] of Object.entries(after)) {
      if (!(table in before) && !MOVED_INTO.includes(table)) {
        expect(rows, `new table ${table}`).toEqual([]);
      }
    }
    const kept = Object.keys(before).filter((table) => !MOVED.includes(table));
    return Object.fromEntries(
      kept.map((table) => [table, asBefore(after[table], before[table][0])]),
    );
  }

  /** Rows with only the columns of `example` (new columns hold their defaults). */
  function asBefore(rows: string[] | undefined, example: string | undefined): string[] | undefined {
    if (!rows || example === undefined) return rows;
    const columns = Object.keys(JSON.parse(example));
    return rows.map((row) => {
      const values = JSON.parse(row);
      return JSON.stringify(Object.fromEntries(columns.map((c) => [c, values[c]])));
    }).sort();
  }

  /** Sessions with their programs' strings, as rows of `usage_sessions` held them before step 5. */
  async function sessionsAsBefore(path: string, before: Record<string, string[]>) {
    const db = createClient({ url: `file:${path}`, intMode: "number" });
    try {
      const result = await db.execute(`SELECT u.*, p.exe, p.argv0, p.version, p.language
        FROM usage_sessions u JOIN session_programs p ON p.id = u.program_id`);
      const rows = result.rows.map((row) => JSON.stringify({ ...row }));
      return asBefore(rows, before.usage_sessions[0]);
    } finally {
      db.close();
    }
  }

  const withoutMoved = (rows: Record<string, string[]>) =>
    Object.fromEntries(Object.entries(rows).filter(([table]) => !MOVED.includes(table)));

  test("a new database is made at the latest version with the schema an old one reaches", async () => {
    const fresh = `${temp.dir}/fresh.db`;
    await openAndClose(fresh);
    expect(await databaseValue(fresh, "PRAGMA user_version")).toBe(SITE_SCHEMA_VERSION);
    const migrated = await copyOfFixture("compare.db");
    await openAndClose(migrated);
    expect(await schemaText(fresh)).toEqual(await schemaText(migrated));
  });

  for (const [shape, statements] of Object.entries(OLD_SHAPES)) {
    test(`a database ${shape} keeps every row and reaches the latest version`, async () => {
      const path = `${temp.dir}/${shape.replaceAll(" ", "-")}.db`;
      const old = createClient({ url: `file:${path}` });
      await old.batch(statements, "write");
      old.close();
      const before = await databaseRows(path);

      await openAndClose(path);
      const after = await databaseRows(path);
      expect(await databaseValue(path, "PRAGMA user_version")).toBe(SITE_SCHEMA_VERSION);
      for (const [table, rows] of Object.entries(withoutMoved(before))) {
        expect(after[table], table).toHaveLength(rows.length);
      }
      if (before.usage_sessions) {
        expect(await sessionsAsBefore(path, before)).toEqual(before.usage_sessions);
      }
      await openAndClose(path);
      expect(await databaseRows(path)).toEqual(after);
    });
  }

  test("the moved shapes hold what the old columns held", async () => {
    const secrets = await databaseRows(`${temp.dir}/before-client-secrets.db`);
    expect(secrets.client_secrets).toEqual([
      JSON.stringify({ client_id: "c1", secret_hash: "hash-1" }),
      JSON.stringify({ client_id: "c2", secret_hash: "hash-2" }),
    ]);
    const zoned = await databaseRows(`${temp.dir}/before-time-zone-local-hour-tables.db`);
    expect(zoned.local_hour_users.map((row) => JSON.parse(row).time_zone)).toEqual(["UTC"]);
    const path = `${temp.dir}/before-the-language-column.db`;
    const sessions = await databaseRows(path);
    const programs = sessions.session_programs.map((row) => JSON.parse(row));
    expect(programs.map((p) => [p.exe, p.version, p.language])).toEqual([
      ["/bin/ed", null, null],
      ["/bin/ed", "1", null],
    ]);
    const rows = sessions.session_rows.map((row) => JSON.parse(row));
    expect(rows.map((row) => row.program_id).sort()).toEqual(programs.map((p) => p.id).sort());
    // Step 6: the computer and the users by id.
    const clients = sessions.session_clients.map((row) => JSON.parse(row));
    const users = sessions.session_users.map((row) => JSON.parse(row));
    expect(clients.map((c) => c.client_id)).toEqual(["c1"]);
    expect(users.map((u) => u.user_name).sort()).toEqual(["ann", "bob"]);
    expect(rows.map((row) => row.client_key)).toEqual([clients[0].id, clients[0].id]);
    expect(rows.map((row) => users.find((u) => u.id === row.user_key).user_name).sort())
      .toEqual(["ann", "bob"]);
    expect(sessions.audit_log.map((row) => JSON.parse(row).count)).toEqual([1]);
  });

  test("local-hour presence moves onto the day's usage rows and users' hours", async () => {
    const path = await copyOfFixture("hours.db");
    await openAndClose(path);
    const rows = await databaseRows(path);
    const pick = (table: string, columns: string[]) =>
      rows[table].map((row) => {
        const values = JSON.parse(row);
        return columns.map((c) => values[c]).join("|");
      });
    expect(rows.local_presence).toBeUndefined();
    // Bit (local date - UTC day) * 24 + local hour + 12: hour 10 of the same date is bit 22.
    expect(pick("daily_usage", ["client_id", "user_name", "time_zone", "local_hours"])).toEqual([
      `c1|ann|UTC|${2 ** 22}`,
      `c1|bob|UTC|${2 ** 22 + 2 ** 23 + 2 ** 24}`,
      `c2|eve|Europe/Paris|${2 ** 23 + 2 ** 24}`,
    ]);
    expect(pick("local_user_hours", ["rule_id", "local_date", "time_zone", "user_name", "hours"]))
      .toEqual([
        `S01-1|2026-03-02|UTC|ann|${2 ** 10}`,
        `S01-1|2026-03-02|UTC|bob|${2 ** 10 + 2 ** 11 + 2 ** 12}`,
        `S01-2|2026-03-02|Europe/Paris|eve|${2 ** 11 + 2 ** 12}`,
      ]);
  });

  test("two processes opening one old file at once both open it, each step done once", async () => {
    const path = await copyOfFixture("twice.db");
    const before = await databaseRows(path);
    const opener = `import { openSiteDatabase } from ${
      JSON.stringify(`${ROOT}site/site_db.ts`)
    };\n(await openSiteDatabase(Deno.args[0])).close();`;
    const runs = await Promise.all([1, 2].map(() =>
      new Deno.Command(Deno.execPath(), {
        args: ["eval", "--ext=ts", opener, path],
        cwd: ROOT,
        stdout: "piped",
        stderr: "piped",
      }).output()
    ));
    const logs = runs.map((run) => new TextDecoder().decode(run.stderr)).join("");
    expect(runs.map((run) => run.code), logs).toEqual([0, 0]);
    const steps = logs.split("\n").filter((line) => line.includes('"database migrated"'));
    expect(steps).toHaveLength(SITE_SCHEMA_VERSION);
    expect(await databaseValue(path, "PRAGMA user_version")).toBe(SITE_SCHEMA_VERSION);
    expect(keptRows(await databaseRows(path), before)).toEqual(withoutMoved(before));
  });

  test("a database of a newer Meter is refused and left unchanged", async () => {
    const path = await copyOfFixture("newer.db");
    const old = createClient({ url: `file:${path}` });
    await old.execute(`PRAGMA user_version = ${SITE_SCHEMA_VERSION + 4}`);
    old.close();
    const bytes = await Deno.readFile(path);

    await expect(openSiteDatabase(path)).rejects.toThrow(
      `the database ${path} was written by a newer Meter (schema version ${
        SITE_SCHEMA_VERSION + 4
      }; this Meter knows up to ${SITE_SCHEMA_VERSION}): upgrade Meter, or restore a backup ` +
        "made by this version",
    );
    expect(await Deno.readFile(path)).toEqual(bytes);
  });
});
