/**
 * `POST /v1/query` attacked the ways a viewer token was found to reach past
 * the query views, each as a real request to a real site:
 *
 * - the file system through libSQL's `readfile()`/`writefile()` and every
 *   other function the build registers but the allowlist does not name (the
 *   list is taken from `pragma_function_list` here, so a new build cannot add
 *   one silently);
 * - a column no view lists, through the table behind the view;
 * - memory: values, sorts and aggregates that grow without bound, two at once;
 * - CPU: a statement inside one long `LIKE`, which SQLite's interrupt cannot
 *   stop, past its time limit.
 *
 * Each is refused (400) or stopped (408), and afterwards the file system, the
 * database and the site's memory are as they were.
 */
import Database from "libsql/promise";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { programRules } from "../site/query/program_rules.ts";
import { QUERY_MEMORY_BYTES } from "../site/query/query_protocol.ts";
import { QUERY_TABLES } from "../site/query/query_views.ts";
import { ALLOWED_FUNCTIONS, SQL_FUNCTIONS } from "../site/query/sql_functions.ts";
import { createToken } from "../site/access/tokens.ts";
import { peakResident, residentMemory, treeCpu, treeCpuSince } from "../bench/process_stats.ts";
import { openQuerySite, type QuerySite } from "./helpers/query_site.ts";

interface RawConnection {
  prepare(sql: string): Promise<{ raw(): { all(): Promise<unknown[][]> } }>;
  close(): void;
}

/** Rows of `sql` on a plain connection of the test's own (not the site's). */
async function rowsOf(file: string, sql: string): Promise<unknown[][]> {
  const db = new Database(file, {}) as unknown as RawConnection;
  try {
    return await (await db.prepare(sql)).raw().all();
  } finally {
    db.close();
  }
}

/** A `LIKE` that SQLite spends tens of seconds inside, in one function call. */
const ENDLESS_LIKE = "SELECT printf('%.*c', 1000000, 'a') " +
  "LIKE ('%' || printf('%.*c', 20000, 'a') || 'b%') AS hit";

describe("query attacks", () => {
  let q: QuerySite;

  beforeAll(async () => {
    q = await openQuerySite();
    await q.query({ sql: "SELECT 1" }); // warm query processes, so memory is compared warm
  });

  afterAll(async () => {
    await q?.close();
  });

  test("the file system is out of reach: readfile, writefile and their kin are refused", async () => {
    const before = await q.snapshot();
    const written = `${q.dir}/written.txt`;
    const db = `${q.dir}/site.db`;
    const attacks: [string, string][] = [
      [`SELECT writefile('${written}', 'y')`, "writefile()"],
      ["SELECT readfile('/etc/shadow')", "readfile()"],
      [`SELECT readfile('${db}')`, "readfile()"],
      [`SELECT readfile('${db}-wal')`, "readfile()"],
      [`SELECT hex(ReadFile('${db}-wal')) AS leak`, "ReadFile()"],
      [`SELECT "readfile"('/etc/passwd')`, "readfile()"],
      [`SELECT (SELECT readfile('/etc/passwd'))`, "readfile()"],
      [`WITH t AS (SELECT readfile('/etc/passwd') AS x) SELECT x FROM t`, "readfile()"],
      [`SELECT host_name FROM clients ORDER BY readfile('/etc/passwd')`, "readfile()"],
      [`SELECT count(*) FILTER (WHERE readfile('/etc/passwd') IS NULL) FROM clients`, "readfile()"],
      [`SELECT lsmode(1)`, "lsmode()"],
      [`SELECT load_extension('${q.dir}/evil.so')`, "load_extension()"],
      ["SELECT sha3_query('DELETE FROM tokens')", "sha3_query()"],
      ["SELECT sqlite3mc_config('cipher')", "sqlite3mc_config()"],
      ["SELECT zeroblob(200000000)", "zeroblob()"],
      ["SELECT randomblob(999999999)", "randomblob()"],
      ["SELECT sqlite_version()", "sqlite_version()"],
    ];
    for (const [sql, name] of attacks) {
      const { status, body } = await q.query({ sql });
      expect(status, `${sql}: ${JSON.stringify(body).slice(0, 300)}`).toBe(400);
      expect(body.error.code, sql).toBe("not_allowed");
      expect(body.error.message, sql).toContain(`function ${name.toLowerCase()} is not allowed`);
    }
    await expect(Deno.stat(written)).rejects.toThrow(Deno.errors.NotFound);
    expect(await q.snapshot()).toBe(before);
  });

  test("every function the build registers is refused unless the allowlist names it", async () => {
    const registered = await rowsOf(":memory:", "SELECT name, narg FROM pragma_function_list");
    const names = new Map<string, number>();
    for (const [name, narg] of registered) names.set(name as string, narg as number);
    // The allowlist names only functions the build has, so its documentation is true.
    for (const name of ALLOWED_FUNCTIONS) expect(names.has(name), name).toBe(true);
    const refused = [...names].filter(([name]) => !ALLOWED_FUNCTIONS.has(name));
    expect(refused.length).toBeGreaterThan(50);
    for (const [name, narg] of refused) {
      const args = Array(narg < 0 ? 1 : narg).fill("'x'").join(", ");
      const sql = `SELECT "${name}"(${args}) AS v`;
      const { status, body } = await q.query({ sql });
      expect(status, `${sql}: ${JSON.stringify(body).slice(0, 300)}`).toBe(400);
      expect(body.error.message, sql).toContain(`${name}()`);
    }
  });

  test("a column no view lists cannot be read through the table behind the view", async () => {
    const before = await q.snapshot();
    const attacks = [
      "SELECT * FROM main.clients",
      "SELECT enrolled_with FROM main.clients",
      "SELECT length(enrolled_with) FROM main.clients",
      "SELECT typeof(enrolled_with) FROM main.clients",
      "SELECT count(*) FROM main.clients WHERE enrolled_with = 'tok1'",
      "SELECT client_id FROM main.clients WHERE enrolled_with LIKE 't%'",
      "SELECT client_id FROM main.clients ORDER BY enrolled_with",
      "SELECT group_concat(enrolled_with) FROM main.clients",
      "WITH t AS (SELECT * FROM main.clients) SELECT * FROM t",
      "SELECT (SELECT enrolled_with FROM main.clients LIMIT 1) AS v",
      "SELECT c.host_name FROM clients c JOIN main.clients m USING (client_id) " +
      "WHERE m.enrolled_with = 'tok1'",
      "SELECT max(updated_at) FROM main.usage_sessions",
      "SELECT * FROM main.usage_sessions",
      "SELECT max(updated_at) FROM main.session_rows",
      "SELECT s.* FROM main.session_rows s JOIN main.session_users u ON u.id = s.user_key",
    ];
    for (const sql of attacks) {
      const { status, body } = await q.query({ sql });
      expect(status, `${sql}: ${JSON.stringify(body).slice(0, 300)}`).toBe(400);
      expect(body.error.message, sql).toMatch(
        /reads (clients\.enrolled_with|session_rows\.updated_at), which no view shows/,
      );
      expect(JSON.stringify(body)).not.toContain("tok1");
    }
    // What a view lists may be read however the table is named.
    const direct = await q.query({ sql: "SELECT host_name FROM main.clients ORDER BY host_name" });
    expect(direct.body.rows).toEqual([["ws-one"], ["ws-two"]]);
    const software = await q.query({ sql: "SELECT count(*) FROM software" });
    expect(software.body.rows).toEqual([[1]]);
    expect(await q.snapshot()).toBe(before);
  });

  test("every index of a query table is readable, so the planner's choice refuses nothing", async () => {
    const rules = await programRules((sql) => rowsOf(`${q.dir}/site.db`, sql));
    const indexes = await rowsOf(
      `${q.dir}/site.db`,
      `SELECT name, rootpage FROM sqlite_schema WHERE type = 'index' AND tbl_name IN (${
        QUERY_TABLES.map((t) => `'${t}'`).join(", ")
      })`,
    );
    expect(indexes.length).toBeGreaterThan(10);
    for (const [name, page] of indexes) {
      expect(rules.btrees.get(page as number)?.closed, name as string).toBeUndefined();
    }
  });

  test("memory is bounded while a query runs, for two greedy queries at once", async () => {
    const before = await q.snapshot();
    const siteMiB = residentMemory(Deno.pid).total / 2 ** 20;
    const greedy = [
      // Doubling a string: 2^40 characters if nothing stops it.
      "WITH RECURSIVE r(i, s) AS (SELECT 0, 'x' UNION ALL SELECT i + 1, s || s FROM r " +
      "WHERE i < 40) SELECT max(length(s)) FROM r",
      // One value of a gigabyte.
      "SELECT length(printf('%.*c', 1000000000, 'x'))",
      // An aggregate that grows to hundreds of megabytes.
      "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 10000000) " +
      "SELECT length(group_concat(printf('%.1000d', i))) FROM r",
      // Temp storage: a DISTINCT over rows made up on the spot.
      "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 10000000) " +
      "SELECT count(DISTINCT printf('%.1000d', i)) FROM r",
    ];
    for (let i = 0; i < greedy.length; i += 2) {
      const replies = await Promise.all(
        greedy.slice(i, i + 2).map((sql) => q.query({ sql, timeoutMs: 30_000 })),
      );
      for (const { status, body } of replies) {
        expect(status, JSON.stringify(body).slice(0, 300)).toBe(400);
        expect(body.error.code, body.error.message).toBe("query_too_large");
      }
    }
    // The site never held the query's memory, and each query process stayed
    // within its cap (plus the runtime's own tens of megabytes).
    expect(residentMemory(Deno.pid).total / 2 ** 20 - siteMiB).toBeLessThan(100);
    const capMiB = QUERY_MEMORY_BYTES / 2 ** 20;
    for (const pid of q.runner.pids) expect(peakResident(pid) / 2 ** 20).toBeLessThan(capMiB + 160);
    expect((await q.query({ sql: "SELECT count(*) FROM sessions" })).body.rows).toEqual([[3]]);
    expect(await q.snapshot()).toBe(before);
  }, 120_000);

  test("the time limit bounds CPU even inside one long function call", async () => {
    await q.query({ sql: "SELECT 1" });
    const started = performance.now();
    const { status, body } = await q.query({ sql: ENDLESS_LIKE, timeoutMs: 1000 });
    expect(status, JSON.stringify(body).slice(0, 300)).toBe(408);
    expect(performance.now() - started).toBeLessThan(3000);
    // Within a second of the answer, nothing of it runs any more.
    const cpu = treeCpu(Deno.pid);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(treeCpuSince(Deno.pid, cpu)).toBeLessThan(0.5);
    expect((await q.query({ sql: "SELECT 2" })).body.rows).toEqual([[2]]);
  });

  test("two viewers looping 100,000-row results get every row, in order", async () => {
    const sql = "WITH RECURSIVE c(x) AS (VALUES (1) UNION ALL SELECT x + 1 FROM c " +
      "WHERE x < 100000) SELECT x, 'row ' || x AS label FROM c";
    const loops = [0, 1].map(async () => {
      for (let i = 0; i < 3; i++) {
        const { status, body } = await q.query({ sql, limit: 100_000 });
        expect(status).toBe(200);
        expect(body.rows.length).toBe(100_000);
        expect(body.rows[99_999]).toEqual([100_000, "row 100000"]);
      }
    });
    await Promise.all(loops);
  });

  test("only viewers and admins may query: a site token, an agent and a stranger may not", async () => {
    const siteToken = (await createToken(q.site.db, "site")).token;
    expect((await q.query({ sql: "SELECT 1" }, siteToken)).status).toBe(403);
    expect((await q.query({ sql: "SELECT 1" }, "c1.f00d")).status).toBe(401);
    expect((await q.query({ sql: "SELECT 1" }, "")).status).toBe(401);
  });

  test("docs/queries.md lists exactly the functions a query may call", async () => {
    const page = await Deno.readTextFile(new URL("../docs/queries.md", import.meta.url));
    for (const [kind, names] of Object.entries(SQL_FUNCTIONS)) {
      const line = new RegExp(`- ${kind}: ((?:.|\\n    )*)`).exec(page)?.[1] ?? "";
      const listed = [...line.matchAll(/`([^`]+)`/g)].map((match) => match[1]);
      expect(listed, kind).toEqual(names);
    }
  });
});
