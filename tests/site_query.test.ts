/**
 * `POST /v1/query` on a real site database: the documented views answer with
 * their documented columns; row and time limits hold; anything but one
 * read-only query over the views is refused with 400, whatever the trick
 * (a second statement, a write, PRAGMA, ATTACH, a subquery, a CTE, a view of
 * a view, a table-valued pragma function), and nothing in the database
 * changes; a slow query is stopped at its time limit (its CPU use stops too,
 * in the query process as in the site) while the site keeps answering other
 * requests. `site_query_attacks.test.ts` holds the attacks on what a query
 * may call, read and use.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { QueryRunner } from "../site/query/query_runner.ts";
import { QUERY_VIEWS } from "../site/query/query_views.ts";
import { createClient } from "@libsql/client";
import { parseCsv } from "./helpers/csv_parse.ts";
import { openQuerySite, type QuerySite } from "./helpers/query_site.ts";
import { cpuSeconds } from "../bench/process_stats.ts";
import { api } from "./helpers/site_api.ts";
import { waitFor } from "./helpers/wait_for.ts";
/** A recursive CTE that counts to a billion: minutes of work for SQLite. */
const SLOW = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c " +
  "WHERE x < 1000000000) SELECT count(*) AS n FROM c";

/**
 * No thread of the process is running or waiting to run (state `R` in
 * `/proc`): a statement still at work would be, however slowly a loaded
 * machine lets it go, so waiting for this cannot pass a runaway query.
 */
function idle(pid: number): boolean {
  let tasks: string[];
  try {
    tasks = [...Deno.readDirSync(`/proc/${pid}/task`)].map((entry) => entry.name);
  } catch {
    return true; // the process is gone
  }
  return tasks.every((task) => {
    try {
      const stat = Deno.readTextFileSync(`/proc/${pid}/task/${task}/stat`);
      return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "R";
    } catch {
      return true; // the thread ended
    }
  });
}

describe("queries", () => {
  let q: QuerySite;
  let url: string;
  let viewer: string;
  let admin: string;
  let enroll: string;
  const query = (body: Record<string, unknown>, token?: string) => q.query(body, token);
  const snapshot = () => q.snapshot();

  beforeAll(async () => {
    q = await openQuerySite();
    ({ url, viewer, admin, enroll } = q);
  });

  afterAll(async () => {
    await q?.close();
  });

  test("every view answers with its documented columns", async () => {
    for (const view of QUERY_VIEWS) {
      const { status, body } = await query({ sql: `SELECT * FROM ${view.name}` });
      expect(status, JSON.stringify(body)).toBe(200);
      expect(body.columns).toEqual(view.columns.map(([name]) => name));
      expect(body.rows.length).toBeGreaterThan(0);
    }
    const sessions = await query({
      sql: `SELECT s.client_id, c.host_name, r.name, s.user_name, s.end_ms IS NULL AS running
        FROM sessions s JOIN clients c USING (client_id) JOIN rules r ON r.id = s.rule_id
        ORDER BY s.start_ms`,
    });
    expect(sessions.body).toEqual({
      columns: ["client_id", "host_name", "name", "user_name", "running"],
      rows: [
        ["c1", "ws-one", "Program S01-1", "ann", 0],
        ["c1", "ws-one", "Program S01-2", "ann", 1],
        ["c2", "ws-two", "Program S01-1", "bob", 0],
      ],
      truncated: false,
    });
    const monthly = await query({
      sql: "SELECT m.month, m.runs, d.day, h.peak_sessions FROM monthly_usage m " +
        "JOIN daily_usage d USING (client_id, rule_id) JOIN hourly_usage h USING (rule_id)",
    });
    expect(monthly.body.rows).toEqual([["2026-05", 1, "2026-05-04", 2]]);
  });

  test("clients holds no secret hash, in the view or in the table behind it", async () => {
    for (const sql of ["SELECT secret_hash FROM clients", "SELECT secret_hash FROM main.clients"]) {
      const { status, body } = await query({ sql });
      expect(status).toBe(400);
      expect(body.error.message).toContain("no such column: secret_hash");
    }
  });

  test("viewers and admins may query; enroll tokens and strangers may not", async () => {
    expect((await query({ sql: "SELECT 1" }, admin)).status).toBe(200);
    expect((await query({ sql: "SELECT 1" }, enroll)).status).toBe(403);
    expect((await query({ sql: "SELECT 1" }, "nobody")).status).toBe(401);
  });

  test("the row limit: 1,000 by default, at most 100,000, truncated says so", async () => {
    const count = (n: number) =>
      `WITH RECURSIVE c(x) AS (VALUES (1) UNION ALL SELECT x + 1 FROM c WHERE x < ${n}) ` +
      "SELECT x FROM c ORDER BY x DESC";
    const many = await query({ sql: count(1500) });
    expect(many.body.rows.length).toBe(1000);
    expect(many.body.rows[0]).toEqual([1500]);
    expect(many.body.truncated).toBe(true);
    expect(many.response.headers.get("x-truncated")).toBe("true");
    const exact = await query({ sql: count(7), limit: 7 });
    expect(exact.body).toMatchObject({ truncated: false });
    expect(exact.body.rows.map((r: number[]) => r[0])).toEqual([7, 6, 5, 4, 3, 2, 1]);
    const most = await query({ sql: count(100_001), limit: 100_000 });
    expect(most.body.rows.length).toBe(100_000);
    expect(most.body.truncated).toBe(true);
    for (const limit of [0, 100_001, 1.5, "10"]) {
      const refused = await query({ sql: "SELECT 1", limit });
      expect(refused.status).toBe(400);
      expect(refused.body.error.message).toContain("limit");
    }
    const badTime = await query({ sql: "SELECT 1", timeoutMs: 60_000 });
    expect(badTime.status).toBe(400);
    expect(badTime.body.error.message).toContain("timeoutMs");
  });

  test("values come back as JSON can carry them, and CSV equals JSON", async () => {
    const sql = "SELECT 9007199254740993 AS big, x'00ff' AS blob, 1.5 AS real, NULL AS none, " +
      "'=1+1' AS formula, 'a,\"b\"' AS quoted, 7 AS x, 8 AS x";
    const json = await query({ sql });
    expect(json.body).toEqual({
      columns: ["big", "blob", "real", "none", "formula", "quoted", "x", "x"],
      rows: [["9007199254740993", "00ff", 1.5, null, "=1+1", 'a,"b"', 7, 8]],
      truncated: false,
    });
    const csv = await api(url, viewer, "POST", "/v1/query?format=csv", { sql });
    expect(csv.headers.get("content-type")).toContain("text/csv");
    expect(parseCsv(await csv.text())).toEqual([
      ["big", "blob", "real", "none", "formula", "quoted", "x", "x"],
      ["9007199254740993", "00ff", "1.5", "", "'=1+1", 'a,"b"', "7", "8"],
    ]);
  });

  test("anything but one read-only query over the views is refused, and nothing changes", async () => {
    const before = await snapshot();
    const attached = `${q.dir}/attached.db`;
    const refused: [string, string][] = [
      ["SELECT 1; DELETE FROM tokens", "more than one statement"],
      ["SELECT 1;\nSELECT * FROM tokens;", "more than one statement"],
      ["SELECT ';'; DROP TABLE rules", "more than one statement"],
      ["DELETE FROM tokens", "DELETE statements are not allowed"],
      ["INSERT INTO rules (id) VALUES ('x')", "INSERT statements are not allowed"],
      ["UPDATE clients SET host_name = 'x'", "UPDATE statements are not allowed"],
      ["REPLACE INTO site_meta VALUES ('code', 'X')", "REPLACE statements"],
      ["PRAGMA query_only = 0", "PRAGMA statements are not allowed"],
      ["PRAGMA table_info(tokens)", "PRAGMA statements"],
      [`ATTACH DATABASE '${attached}' AS other`, "ATTACH statements"],
      ["CREATE TABLE evil (x)", "CREATE statements"],
      ["DROP TABLE tokens", "DROP statements"],
      ["VACUUM", "VACUUM statements"],
      ["BEGIN", "BEGIN statements"],
      ["EXPLAIN SELECT * FROM tokens", "EXPLAIN statements"],
      ["/* hi */ -- there\n  delete from tokens", "DELETE statements"],
      ["", "at sql"],
      ["  ;  -- nothing", "no statement"],
      ["WITH x AS (SELECT 1) DELETE FROM tokens", "returns no rows"],
      ["WITH x AS (SELECT 1) DELETE FROM tokens RETURNING *", "tokens"],
      ["WITH x AS (SELECT 1) UPDATE rules SET name = 'x' RETURNING id", "rules"],
      ["SELECT * FROM tokens", "reads tokens"],
      ["SELECT * FROM main.tokens", "reads tokens"],
      ["SELECT * FROM client_secrets", "reads client_secrets"],
      [
        "SELECT c.*, s.secret_hash FROM clients c JOIN client_secrets s USING (client_id)",
        "reads client_secrets",
      ],
      ["SELECT (SELECT hash FROM tokens LIMIT 1) AS h", "reads tokens"],
      [
        "SELECT * FROM clients WHERE client_id IN (SELECT client_id FROM client_secrets)",
        "client_secrets",
      ],
      ["WITH t AS (SELECT * FROM tokens) SELECT * FROM t", "reads tokens"],
      ["WITH RECURSIVE t(h) AS (SELECT hash FROM tokens) SELECT h FROM t", "reads tokens"],
      ["SELECT * FROM token_view_2", "reads tokens"],
      ["SELECT hash FROM token_view UNION SELECT name FROM rules", "reads tokens"],
      ["SELECT * FROM sqlite_schema", "reads sqlite_schema"],
      ["SELECT sql FROM sqlite_master WHERE name = 'tokens'", "reads sqlite_schema"],
      ["SELECT * FROM temp.sqlite_master", "temp"],
      ["SELECT * FROM sqlite_temp_master", "temp"],
      ["SELECT * FROM pragma_table_info('tokens')", "table-valued functions"],
      ["SELECT name FROM pragma_table_list", "table-valued functions"],
      ["SELECT * FROM json_each((SELECT hash FROM tokens))", "table-valued"],
      ["SELECT * FROM docs", "reads docs"],
      ["SELECT count(*) FROM doc_chunks", "reads doc_chunks"],
      ["SELECT * FROM sync_states", "reads sync_states"],
      ["SELECT * FROM site_meta", "reads site_meta"],
      ["SELECT * FROM client_actors", "reads client_actors"],
      ["SELECT * FROM summary_pending", "reads summary_pending"],
    ];
    for (const [sql, message] of refused) {
      const { status, body } = await query({ sql });
      expect(status, `${sql}: ${JSON.stringify(body)}`).toBe(400);
      expect(body.error.message, sql).toContain(message);
    }
    expect(await snapshot()).toBe(before);
    await expect(Deno.stat(attached)).rejects.toThrow();
  });

  test("semicolons in strings and comments do not make a second statement", async () => {
    const ok = [
      "SELECT ';' AS s",
      'SELECT 1 AS "a;b"',
      "SELECT 1 -- ; DELETE FROM tokens",
      "SELECT 1 /* ; DELETE FROM tokens */;",
      "SELECT 1;  -- done\n",
      "SELECT [x;y] FROM (SELECT 1 AS [x;y])",
    ];
    for (const sql of ok) {
      const { status, body } = await query({ sql });
      expect(status, `${sql}: ${JSON.stringify(body)}`).toBe(200);
      expect(body.rows.length).toBe(1);
    }
  });

  test("a slow query is stopped at its time limit while the site keeps answering", async () => {
    // Both workers warm, so nothing below waits for a process to start.
    await Promise.all([query({ sql: "SELECT 1" }), query({ sql: "SELECT 1" })]);
    expect(q.runner.workers).toBe(2);
    const timeoutMs = 5_000;
    const started = performance.now();
    let settled = false;
    const slow = query({ sql: SLOW, timeoutMs }).finally(() => settled = true);
    // Running: one of the query processes is working on it.
    const cpu = new Map(q.runner.pids.map((pid) => [pid, cpuSeconds(pid)]));
    await waitFor(
      "the slow query to run",
      () => [...cpu].some(([pid, before]) => cpuSeconds(pid) - before >= 0.05),
      { intervalMs: 20 },
    );
    // Meanwhile: a plain API request, and another query on the second worker,
    // both answered while the slow one still runs.
    const rules = await api(url, viewer, "GET", "/v1/rules");
    expect(rules.status).toBe(200);
    await rules.body?.cancel();
    const other = await query({ sql: "SELECT count(*) FROM sessions" });
    expect(other.body.rows).toEqual([[3]]);
    expect(settled, "the slow query ended before the others were answered").toBe(false);
    const { status, body } = await slow;
    expect(status).toBe(408);
    expect(body.error.code).toBe("query_timeout");
    expect(body.error.message).toContain("time limit (5 s)");
    // Not stopped before its limit (a lower bound: a slow machine only adds to it).
    expect(performance.now() - started).toBeGreaterThan(timeoutMs - 100);
    // The statement really stopped: no thread of a query process stays runnable.
    await waitFor("the query processes to be idle", () => q.runner.pids.every(idle));
    // And the worker that ran it answers the next query.
    expect((await query({ sql: "SELECT 2" })).body.rows).toEqual([[2]]);
  });

  test("a query slow after its first rows is stopped too", async () => {
    const sql = "SELECT CASE WHEN v = 1 THEN 0 ELSE (" + SLOW + ") END AS n " +
      "FROM (SELECT 1 AS v UNION ALL SELECT 2)";
    const { status, body } = await query({ sql, timeoutMs: 800 });
    expect(status).toBe(408);
    expect(body.error.code).toBe("query_timeout");
    await waitFor("the query processes to be idle", () => q.runner.pids.every(idle));
  });

  test("more queries than workers and queue are refused with 503", async () => {
    // A grace long enough that even a loaded machine answers before a kill: this is about the
    // queue. 5 s was not, once, at the start of a CI run (Wine's prefix being made beside it):
    // the process opens the database within its first query's time.
    const small = new QueryRunner(q.site.db, { workers: 1, queue: 1, graceMs: 30_000 });
    try {
      // Its process started and its database opened first, unhurried: at the start of a CI run,
      // beside Wine making its prefix, that took longer than 30 s twice, and the process was
      // killed as a stuck query.
      const warm = await small.run({
        sql: "SELECT 1",
        limit: 1,
        timeoutMs: 120_000,
        format: "json",
      });
      expect(warm.ok).toBe(true);
      const request = { sql: SLOW, limit: 10, timeoutMs: 600, format: "json" as const };
      const replies = await Promise.allSettled([
        small.run(request),
        small.run(request),
        small.run(request),
      ]);
      const statuses = replies.map((r) =>
        r.status === "fulfilled"
          ? (r.value.ok ? 200 : r.value.status)
          : (r.reason as { status: number }).status
      );
      expect(statuses.sort()).toEqual([408, 408, 503]);
      expect(small.workers).toBe(1);
    } finally {
      small.close();
    }
    expect(small.workers).toBe(0);
  });

  test("a site on a libSQL server answers 501", async () => {
    const remote = createClient({ url: "http://127.0.0.1:9" });
    const runner = new QueryRunner(remote);
    try {
      await expect(runner.run({ sql: "SELECT 1", limit: 1, timeoutMs: 1000, format: "json" }))
        .rejects
        .toMatchObject({ status: 501 });
    } finally {
      runner.close();
      remote.close();
    }
  });
});
