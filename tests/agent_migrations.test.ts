/**
 * The agent database's numbered migrations: the file 0.1.0 wrote
 * (`tests/data/schemas/agent-0.1.0.db`) and the shape before a session's
 * language was kept each open, keep every row and reach the latest version;
 * opening again changes nothing; a newer file is refused unchanged.
 */
import { createClient } from "@libsql/client";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { fileURLToPath } from "node:url";
import { AGENT_SCHEMA, openAgentDatabase } from "../agent/agent_db.ts";
import { databaseRows, databaseValue } from "./helpers/database_rows.ts";
import { tempDir } from "./helpers/metered_program.ts";

const FIXTURE = fileURLToPath(new URL("./data/schemas/agent-0.1.0.db", import.meta.url));
const LATEST = AGENT_SCHEMA.migrations.length;

const BEFORE_LANGUAGE = [
  `CREATE TABLE agent_sessions (id TEXT PRIMARY KEY, day TEXT NOT NULL, seq INTEGER NOT NULL,
    rule_id TEXT NOT NULL, user_name TEXT NOT NULL, exe TEXT NOT NULL, argv0 TEXT NOT NULL,
    version TEXT, pid INTEGER NOT NULL, start_ms INTEGER NOT NULL, end_ms INTEGER,
    start_not_captured INTEGER NOT NULL, end_not_captured INTEGER NOT NULL,
    remote INTEGER NOT NULL, start_ticks INTEGER NOT NULL, boot_id TEXT NOT NULL,
    written INTEGER NOT NULL DEFAULT 0)`,
  `INSERT INTO agent_sessions VALUES
    ('2026-11-20/0', '2026-11-20', 0, 'S01-1', 'ann', '/bin/ed', 'ed', NULL, 1, 10, 20, 0, 0, 0,
      5, 'boot', 0)`,
];

describe("agent database migrations", () => {
  let temp: Awaited<ReturnType<typeof tempDir>>;
  beforeAll(async () => {
    temp = await tempDir("meter-agent-migrations-");
  });
  afterAll(async () => await temp?.remove());

  async function openAndClose(path: string): Promise<void> {
    (await openAgentDatabase(path)).close();
  }

  test("a database 0.1.0 wrote keeps every row and reaches the latest version", async () => {
    const path = `${temp.dir}/release.db`;
    await Deno.copyFile(FIXTURE, path);
    const before = await databaseRows(path);
    expect(before.agent_sessions).toHaveLength(2);
    expect(before.agent_state.length).toBeGreaterThan(0);
    expect(before.docs.length).toBeGreaterThan(0);
    await openAndClose(path);
    expect(await databaseValue(path, "PRAGMA user_version")).toBe(LATEST);
    expect(await databaseRows(path)).toEqual(before);
    await openAndClose(path);
    expect(await databaseRows(path)).toEqual(before);
  });

  test("a database before the language column gains it and keeps its sessions", async () => {
    const path = `${temp.dir}/before-language.db`;
    const old = createClient({ url: `file:${path}` });
    await old.batch(BEFORE_LANGUAGE, "write");
    old.close();
    await openAndClose(path);
    const after = await databaseRows(path);
    expect(after.agent_sessions.map((row) => JSON.parse(row))).toEqual([
      expect.objectContaining({ id: "2026-11-20/0", user_name: "ann", language: null }),
    ]);
    expect(await databaseValue(path, "PRAGMA user_version")).toBe(LATEST);
    await openAndClose(path);
    expect(await databaseRows(path)).toEqual(after);
  });

  test("a database of a newer Meter is refused and left unchanged", async () => {
    const path = `${temp.dir}/newer.db`;
    await Deno.copyFile(FIXTURE, path);
    const old = createClient({ url: `file:${path}` });
    await old.execute(`PRAGMA user_version = ${LATEST + 1}`);
    old.close();
    const bytes = await Deno.readFile(path);
    await expect(openAgentDatabase(path)).rejects.toThrow(/written by a newer Meter/);
    expect(await Deno.readFile(path)).toEqual(bytes);
  });
});
