/**
 * `POST /v1/query` on a real site database: the documented views answer with
 * their documented columns; row and time limits hold; anything but one
 * read-only query over the views is refused with 400, whatever the trick
 * (a second statement, a write, PRAGMA, ATTACH, a subquery, a CTE, a view of
 * a view, a table-valued pragma function), and nothing in the database
 * changes; a slow query is stopped at its time limit (its CPU use stops too)
 * while the site keeps answering other requests.
 */
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { errorResponse } from "../site/api_error.ts";
import { createApp } from "../site/app.ts";
import type { SiteEnv } from "../site/auth.ts";
import { QueryRunner } from "../site/query/query_runner.ts";
import { QUERY_VIEWS } from "../site/query/query_views.ts";
import { queryRoute } from "../site/routes/query_route.ts";
import { closeSite, openSite, type SiteContext } from "../site/site_context.ts";
import { createToken } from "../site/tokens.ts";
import { createClient } from "@libsql/client";
import { parseCsv } from "./helpers/csv_parse.ts";
import { tempDir } from "./helpers/metered_program.ts";
import { api } from "./helpers/site_api.ts";

const T0 = Date.UTC(2026, 4, 4, 9, 0, 0);
/** A recursive CTE that counts to a billion: minutes of work for SQLite. */
const SLOW = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c " +
  "WHERE x < 1000000000) SELECT count(*) AS n FROM c";

/** CPU seconds this process has used (user + system). */
function cpuSeconds(): number {
  const fields = Deno.readTextFileSync("/proc/self/stat").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

describe("queries", () => {
  let temp: Awaited<ReturnType<typeof tempDir>>;
  let site: SiteContext;
  let runner: QueryRunner;
  let server: Deno.HttpServer<Deno.NetAddr>;
  let url: string;
  let viewer: string;
  let admin: string;
  let enroll: string;

  beforeAll(async () => {
    temp = await tempDir("meter-query-");
    site = await openSite({ db: `${temp.dir}/site.db`, code: "S01" });
    runner = new QueryRunner(site.db, { workers: 2 });
    const app = new Hono<SiteEnv>();
    app.onError(errorResponse);
    app.route("/v1/query", queryRoute(site, { runner }));
    app.route("/", createApp(site));
    server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, app.fetch);
    url = `http://127.0.0.1:${server.addr.port}`;
    viewer = (await createToken(site.db, "viewer")).token;
    admin = (await createToken(site.db, "admin")).token;
    enroll = (await createToken(site.db, "enroll")).token;
    await seed();
  });

  afterAll(async () => {
    runner?.close();
    await server?.shutdown();
    if (site) closeSite(site);
    await temp?.remove();
  });

  async function exec(sql: string, ...args: (string | number | null)[]): Promise<void> {
    await site.db.execute({ sql, args });
  }

  async function seed(): Promise<void> {
    for (const [id, host, tz] of [["c1", "ws-one", "Europe/Paris"], ["c2", "ws-two", "UTC"]]) {
      await exec(
        `INSERT INTO clients (client_id, host_name, time_zone, enrolled_at, enrolled_with)
          VALUES (?, ?, ?, ?, 'tok1')`,
        id,
        host,
        tz,
        T0,
      );
      await exec("INSERT INTO client_secrets (client_id, secret_hash) VALUES (?, ?)", id, "f00d");
    }
    for (const id of ["S01-1", "S01-2"]) {
      await exec(
        `INSERT INTO rules (id, name, file_name, version, site_code, apply_to_child_sites,
          enabled, comment, origin, created_at, updated_at)
          VALUES (?, ?, 'x', '*', 'S01', 0, 1, '', 'manual', ?, ?)`,
        id,
        `Program ${id}`,
        T0,
        T0,
      );
    }
    const sessions: [string, string, string, string, number, number | null][] = [
      ["c1", "2026-05-04/1", "S01-1", "ann", T0, T0 + 60_000],
      ["c1", "2026-05-04/2", "S01-2", "ann", T0 + 1000, null],
      ["c2", "2026-05-04/1", "S01-1", "bob", T0 + 2000, T0 + 5000],
    ];
    for (const [client, id, rule, user, start, end] of sessions) {
      await exec(
        `INSERT INTO usage_sessions (client_id, session_id, rule_id, user_name, exe, argv0,
          version, pid, start_ms, end_ms, start_not_captured, end_not_captured, remote,
          updated_at) VALUES (?, ?, ?, ?, '/usr/bin/x', 'x', '1.0', 42, ?, ?, 0, 0, 0, ?)`,
        client,
        id,
        rule,
        user,
        start,
        end,
        T0,
      );
    }
    await exec(
      `INSERT INTO hourly_usage VALUES ('S01-1', ?, 2, 2, 2, 2, 63000, 2, ?, 2, ?, 0, 0, ?)`,
      T0,
      T0 + 2000,
      T0 + 2000,
      T0,
    );
    await exec(
      `INSERT INTO daily_usage VALUES ('c1', '2026-05-04', 'S01-1', 'ann', 1, 60000, ?,
      0, 0)`,
      T0 + 60_000,
    );
    await exec(
      `INSERT INTO monthly_usage VALUES ('S01-1', '2026-05', 'ann', 'c1', 1, 60000, ?,
      0, 0)`,
      T0 + 60_000,
    );
    await exec(
      `INSERT INTO software VALUES ('c1', 'dpkg/coreutils:amd64', 'coreutils', 'coreutils',
      '9.1-1', 'Debian <debian@example.org>', 'dpkg', ?)`,
      T0,
    );
    await exec(
      `INSERT INTO software_files VALUES ('c1', 'dpkg/coreutils:amd64', '/usr/bin/ls', 'ls', NULL,
      NULL)`,
    );
    // Views in the site's own schema, as a trick to reach tokens through.
    await exec("CREATE VIEW IF NOT EXISTS token_view AS SELECT * FROM tokens");
    await exec("CREATE VIEW IF NOT EXISTS token_view_2 AS SELECT hash FROM token_view");
  }

  async function query(body: Record<string, unknown>, token = viewer, path = "/v1/query") {
    const response = await api(url, token, "POST", path, body);
    return { status: response.status, body: await response.json(), response };
  }

  /** Every row of every table and the schema itself, to prove nothing changed. */
  async function snapshot(): Promise<string> {
    const tables = await site.db.execute(
      "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name",
    );
    const all: Record<string, unknown> = {
      schema: (await site.db.execute("SELECT * FROM sqlite_schema ORDER BY name")).rows,
    };
    for (const row of tables.rows) {
      const name = row.name as string;
      all[name] = (await site.db.execute(`SELECT * FROM "${name}"`)).rows;
    }
    return JSON.stringify(all);
  }

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
    const attached = `${temp.dir}/attached.db`;
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
    await query({ sql: "SELECT 1" }); // a warm worker, so the time measured is the query's
    const started = performance.now();
    const slow = query({ sql: SLOW, timeoutMs: 1500 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    // Meanwhile: a plain API request, and another query on the second worker.
    const rulesStarted = performance.now();
    const rules = await api(url, viewer, "GET", "/v1/rules");
    const rulesMs = performance.now() - rulesStarted;
    expect(rules.status).toBe(200);
    expect(rulesMs).toBeLessThan(500);
    const other = await query({ sql: "SELECT count(*) FROM sessions" });
    expect(other.body.rows).toEqual([[3]]);
    expect(performance.now() - rulesStarted).toBeLessThan(1000);
    const { status, body } = await slow;
    const elapsed = performance.now() - started;
    expect(status).toBe(408);
    expect(body.error.code).toBe("query_timeout");
    expect(body.error.message).toContain("time limit (1.5 s)");
    expect(elapsed).toBeGreaterThan(1400);
    expect(elapsed).toBeLessThan(3000);
    // The statement really stopped: the process does not keep a core busy.
    const cpu = cpuSeconds();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(cpuSeconds() - cpu).toBeLessThan(0.5);
    // And the worker that ran it answers the next query.
    expect((await query({ sql: "SELECT 2" })).body.rows).toEqual([[2]]);
  });

  test("a query slow after its first rows is stopped too", async () => {
    const sql = "SELECT CASE WHEN v = 1 THEN 0 ELSE (" + SLOW + ") END AS n " +
      "FROM (SELECT 1 AS v UNION ALL SELECT 2)";
    const started = performance.now();
    const { status } = await query({ sql, timeoutMs: 800 });
    expect(status).toBe(408);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  test("more queries than workers and queue are refused with 503", async () => {
    const small = new QueryRunner(site.db, { workers: 1, queue: 1 });
    try {
      const request = { sql: SLOW, limit: 10, timeoutMs: 600 };
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
      await expect(runner.run({ sql: "SELECT 1", limit: 1, timeoutMs: 1000 })).rejects
        .toMatchObject({ status: 501 });
    } finally {
      runner.close();
      remote.close();
    }
  });
});
