/**
 * Reused prepared statements (`store/statement_cache.ts`) on a real libSQL
 * file through `openDatabase`, the way the site and the agent open theirs:
 * a text is prepared once per connection, results stay right when it is
 * reused with other values, a failed run drops the statement so the next run
 * of the same text starts clean, and varying texts stay bounded.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import { join } from "node:path";
import type { Client } from "../store/db.ts";
import { openDatabase } from "../store/db.ts";
import { STATEMENTS_PER_CONNECTION, statementsPrepared } from "../store/statement_cache.ts";
import { tempDir } from "./helpers/metered_program.ts";

let temp: Awaited<ReturnType<typeof tempDir>>;
let db: Client;

beforeAll(async () => {
  temp = await tempDir();
  db = await openDatabase(join(temp.dir, "cache.db"), [
    "CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, name TEXT NOT NULL)",
  ]);
});

afterAll(async () => {
  db?.close();
  await temp?.remove();
});

test("a text is prepared once and gives each run's own rows", async () => {
  const before = statementsPrepared();
  for (let id = 1; id <= 200; id++) {
    await db.execute({ sql: "INSERT INTO t (id, name) VALUES (?, ?)", args: [id, `n${id}`] });
  }
  for (let id = 1; id <= 200; id += 7) {
    const result = await db.execute({ sql: "SELECT id, name FROM t WHERE id >= ?", args: [id] });
    expect(result.rows.length).toBe(201 - id);
    expect(result.rows[0]).toMatchObject({ id, name: `n${id}` });
  }
  expect(statementsPrepared() - before).toBe(2);
});

test("a failed run drops its statement and the same text runs again cleanly", async () => {
  const insert = "INSERT INTO t (id, name) VALUES (?, ?)";
  const before = statementsPrepared();
  await expect(db.execute({ sql: insert, args: [1, "again"] })).rejects.toThrow(/UNIQUE/);
  await expect(db.execute({ sql: insert, args: [500, null] })).rejects.toThrow(/NOT NULL/);
  await db.execute({ sql: insert, args: [501, "fine"] });
  // A batch that fails half-way rolls back whole, and runs whole afterwards.
  const batch = (id: number) => [
    { sql: insert, args: [id, "first"] },
    { sql: insert, args: [1, "clash"] },
  ];
  await expect(db.batch(batch(600), "write")).rejects.toThrow(/UNIQUE/);
  await db.batch([{ sql: insert, args: [600, "first"] }], "write");
  const rows = await db.execute("SELECT id, name FROM t WHERE id >= 500 ORDER BY id");
  expect(rows.rows.map((r) => [r.id, r.name])).toEqual([[501, "fine"], [600, "first"]]);
  // The insert was prepared anew after each of its three failures.
  expect(statementsPrepared() - before).toBeGreaterThanOrEqual(3);
});

test("texts that vary are kept up to a bound, the least recently used dropped", async () => {
  const first = "SELECT count(*) AS n FROM t WHERE id > 0";
  await db.execute(first);
  const before = statementsPrepared();
  await db.execute(first);
  expect(statementsPrepared()).toBe(before);
  for (let i = 0; i < STATEMENTS_PER_CONNECTION; i++) {
    await db.execute(`SELECT ${i} AS value`);
  }
  const afterVarying = statementsPrepared();
  expect(afterVarying - before).toBe(STATEMENTS_PER_CONNECTION);
  // The first text was the least recently used: it was dropped and is prepared again.
  const again = await db.execute(first);
  expect(again.rows[0].n).toBe(202);
  expect(statementsPrepared()).toBe(afterVarying + 1);
});
