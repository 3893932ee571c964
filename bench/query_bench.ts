/**
 * What `POST /v1/query` costs the site that serves it, on a real site
 * process, each figure next to its baseline from the same run:
 *
 * - `GET /v1/health` p90 while two viewers loop 100,000-row results, against
 *   the same probe on the idle site;
 * - one 100,000-row answer through the API, against plain libSQL reading the
 *   same rows in this process;
 * - the site's resident memory at its peak while two greedy queries (a value
 *   doubled to gigabytes, an aggregate of hundreds of megabytes) run at once,
 *   against the site before them, and the query processes' peak;
 * - CPU used by the site and its query processes in the second after a query
 *   stuck inside one long `LIKE` was answered 408, against an idle second.
 *
 * @module
 */
import Database from "libsql/promise";
import { type BenchFigure, progress, round } from "./bench_figure.ts";
import { startBenchSite } from "./bench_site.ts";
import { childPids, peakResident, residentMemory, treeCpu, treeCpuSince } from "./process_stats.ts";
import { backgroundLoop } from "./background_loop.ts";
import { percentile, sampleGetLatency } from "./request_latency.ts";
import { createToken, openSiteDatabase, QUERY_MEMORY_BYTES } from "../site/mod.ts";

const ROWS_100K = "WITH RECURSIVE c(x) AS (VALUES (1) UNION ALL SELECT x + 1 FROM c " +
  "WHERE x < 100000) SELECT x, 'row ' || x AS label, x * 1.5 AS half FROM c";
const GREEDY = [
  "WITH RECURSIVE r(i, s) AS (SELECT 0, 'x' UNION ALL SELECT i + 1, s || s FROM r " +
  "WHERE i < 40) SELECT max(length(s)) FROM r",
  "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 10000000) " +
  "SELECT length(group_concat(printf('%.1000d', i))) FROM r",
];
const STUCK_LIKE = "SELECT printf('%.*c', 1000000, 'a') " +
  "LIKE ('%' || printf('%.*c', 20000, 'a') || 'b%') AS hit";

function residentMiB(pid: number): number {
  try {
    return residentMemory(pid).total / 2 ** 20;
  } catch {
    return 0;
  }
}

async function query(url: string, token: string, sql: string, limit = 1000, timeoutMs = 30_000) {
  const response = await fetch(`${url}/v1/query`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ sql, limit, timeoutMs }),
  });
  const body = await response.arrayBuffer();
  return { status: response.status, bytes: body.byteLength };
}

async function healthP90(url: string, seconds: number): Promise<number> {
  const sampler = sampleGetLatency(`${url}/v1/health`, 20);
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  return percentile((await sampler.stop()).times, 0.9);
}

/** Plain libSQL reading the same 100,000 rows in this process, median of 5: the floor of any answer. */
async function plainRead(): Promise<number> {
  const db = new Database(":memory:", {}) as unknown as {
    prepare(sql: string): Promise<{ raw(): { all(): Promise<unknown[][]> } }>;
    close(): void;
  };
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    const rows = await (await db.prepare(ROWS_100K)).raw().all();
    times.push(performance.now() - started);
    if (rows.length !== 100_000) throw new Error(`read ${rows.length} rows`);
  }
  db.close();
  return percentile(times, 0.5);
}

export async function benchQueries(): Promise<BenchFigure[]> {
  const dir = await Deno.makeTempDir({ prefix: "meter-bench-query-" });
  const site = await startBenchSite(dir);
  const db = await openSiteDatabase(site.db);
  const viewer = (await createToken(db, "viewer")).token;
  db.close();
  try {
    progress("queries: health while two viewers loop 100,000-row results");
    await query(site.url, viewer, "SELECT 1");
    const idleP90 = await healthP90(site.url, 5);
    const answers: number[] = [];
    const loops = [0, 1].map(() =>
      backgroundLoop(0, async () => {
        const started = performance.now();
        const { status } = await query(site.url, viewer, ROWS_100K, 100_000);
        if (status !== 200) throw new Error(`a 100,000-row query answered ${status}`);
        answers.push(performance.now() - started);
      })
    );
    const loadedP90 = await healthP90(site.url, 10);
    await Promise.all(loops.map((loop) => loop.stop()));

    progress("queries: two greedy queries at once");
    const before = residentMiB(site.pid);
    let sitePeak = before;
    const watch = backgroundLoop(20, () => {
      sitePeak = Math.max(sitePeak, residentMiB(site.pid));
      return Promise.resolve();
    });
    const greedy = await Promise.all(GREEDY.map((sql) => query(site.url, viewer, sql)));
    await watch.stop();
    if (greedy.some((reply) => reply.status !== 400)) throw new Error("a greedy query ran");
    const processPeak = Math.max(...childPids(site.pid).map(peakResident)) / 2 ** 20;

    progress("queries: a query stuck inside one LIKE");
    const idleStart = treeCpu(site.pid);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const idleCpu = treeCpuSince(site.pid, idleStart);
    const stuck = await query(site.url, viewer, STUCK_LIKE, 1, 1000);
    if (stuck.status !== 408) throw new Error(`the stuck query answered ${stuck.status}`);
    const afterStart = treeCpu(site.pid);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const afterCpu = treeCpuSince(site.pid, afterStart);

    return [
      {
        name: "query: health p90 while 2 viewers loop 100,000-row results",
        value: round(loadedP90, 1),
        unit: "ms",
        baseline: { name: "health p90, idle site", value: round(idleP90, 1) },
        target: "<= 100",
      },
      {
        name: "query: one 100,000-row answer through the API (median)",
        value: round(percentile(answers, 0.5), 0),
        unit: "ms",
        baseline: { name: "plain libSQL, same rows", value: round(await plainRead(), 0) },
      },
      {
        name: "query: site resident memory, peak during 2 greedy queries",
        value: round(sitePeak, 0),
        unit: "MiB",
        baseline: { name: "site before them", value: round(before, 0) },
        target: "<= 500",
      },
      {
        name: "query: a query process's peak resident memory",
        value: round(processPeak, 0),
        unit: "MiB",
        baseline: { name: "its SQLite cap", value: QUERY_MEMORY_BYTES / 2 ** 20 },
      },
      {
        name: "query: CPU of site and query processes, 1 s after a stuck query's 408",
        value: round(afterCpu, 2),
        unit: "s",
        baseline: { name: "an idle second", value: round(idleCpu, 2) },
        target: "<= 0.2",
      },
    ];
  } finally {
    await site.stop();
    await Deno.remove(dir, { recursive: true });
  }
}
