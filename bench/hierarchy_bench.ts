/**
 * Hierarchy figures: a child site holding 30 days of summaries for 10,000
 * clients and 50 rules (generated in SQL: about 900,000 daily rows, hourly
 * figures and local-hour users of every rule) catches up with a parent that
 * has never heard of it, and then syncs with nothing new.
 *
 * The parent is a real site process on loopback; the child is opened in this
 * process, so that its link to the parent can be timed step by step: writing
 * the summary documents (`publishSummaries`), and the sync that carries them
 * (rounds, bytes each way, time until the parent has stored and materialised
 * them). Baselines in the same run: the bytes of the same rows as bare CBOR,
 * deflated (no Automerge), and the time to read the child's summary rows.
 *
 * `deno run -A bench/hierarchy_bench.ts [--clients N] [--days N]` runs it alone.
 *
 * @module
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { encode } from "cbor-x";
import { Buffer } from "node:buffer";
import { deflateRawSync } from "node:zlib";
import {
  createToken,
  generatedClientsStatement,
  openSite,
  openSiteDatabase,
  ParentLink,
  publishSummaries,
} from "../site/mod.ts";
import type { Client } from "../store/db.ts";
import { DAY_MS, dayOf } from "../model/doc_id.ts";
import { type BenchFigure, progress, renderFigures, round } from "./bench_figure.ts";
import { startBenchSite } from "./bench_site.ts";

const RULES = 50;

export async function benchHierarchy(
  options: { clients?: number; days?: number } = {},
): Promise<BenchFigure[]> {
  const clients = options.clients ?? 10_000;
  const days = options.days ?? 30;
  const dir = await Deno.makeTempDir({ prefix: "meter-bench-hierarchy-" });
  const parent = await startBenchSite(dir);
  try {
    const tokens = await openSiteDatabase(parent.db);
    const siteToken = (await createToken(tokens, "site")).token;
    tokens.close();
    const child = await openSite({ db: join(dir, "child.db"), code: "CHD" });
    try {
      const rows = await generateSummaries(child.db, clients, days);
      const link = new ParentLink(child, { url: parent.url, token: siteToken });
      progress("hierarchy: writing the summary documents");
      const publishStarted = performance.now();
      const published = await publishSummaries(child);
      const publishMs = performance.now() - publishStarted;
      const read = await timedRead(child.db);
      progress(`hierarchy: ${published.docs} documents for ${published.days} days; syncing`);
      const syncStarted = performance.now();
      const catchUp = await link.sync();
      const syncMs = performance.now() - syncStarted;
      await checkParent(parent.db, rows.daily);
      const steady = await link.sync();
      const cbor = await bareCborBytes(child.db);
      const perClientDay = catchUp.bytesSent / (clients * days);
      progress(
        `hierarchy: catch-up ${round(syncMs / 1000, 1)} s, ${catchUp.rounds} rounds, ` +
          `${catchUp.bytesSent} bytes up; then ${steady.rounds} round(s), ` +
          `${steady.bytesSent + steady.bytesReceived} bytes`,
      );
      return [
        {
          name: `child writes its summary documents: ${clients} clients × ${days} days, ${RULES} ` +
            `rules (${published.docs} documents, ${rows.records} records)`,
          value: round(publishMs / 1000, 1),
          unit: "s",
          baseline: { name: "reading those summary rows, s", value: round(read / 1000, 2) },
        },
        {
          name: "parent catches up with the child (sync, store, materialise)",
          value: round(syncMs / 1000, 1),
          unit: "s",
          baseline: { name: "rounds", value: catchUp.rounds },
        },
        {
          name: "bytes sent up to catch up (deflated CBOR batches)",
          value: catchUp.bytesSent,
          unit: "bytes",
          baseline: { name: "the same rows as bare CBOR, deflated, bytes", value: cbor },
        },
        {
          name: "summary bytes sent up per client per day",
          value: round(perClientDay, 1),
          unit: "bytes",
        },
        {
          name: `steady-state sync with nothing new (${
            steady.bytesSent + steady.bytesReceived
          } bytes)`,
          value: steady.rounds,
          unit: "round trips",
          target: "<= 1",
        },
      ];
    } finally {
      child.queries.close();
      child.db.close();
    }
  } finally {
    await parent.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * Summary rows as a site's summariser leaves them: every client uses three
 * of the rules every day (one user each), and every rule has figures for
 * every hour and local hour; every day is marked for the parent.
 */
async function generateSummaries(db: Client, clients: number, days: number) {
  progress(`hierarchy: generating summaries of ${clients} clients over ${days} days`);
  const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
  const first = today - (days - 1) * DAY_MS;
  const count = (n: number, name: string) =>
    `${name}(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM ${name} WHERE n + 1 < ${n})`;
  await db.batch([
    generatedClientsStatement(clients, "cl%06d", Date.now()),
    {
      sql: `INSERT INTO daily_usage (client_id, day, rule_id, user_name, runs, run_ms, last_use_ms,
          remote_runs, remote_run_ms)
        WITH RECURSIVE ${count(clients, "c")}, ${count(days, "d")}, ${count(3, "k")}
        SELECT printf('cl%06d', c.n), date(? / 1000 + d.n * 86400, 'unixepoch'),
          'CHD-' || (1 + (c.n * 7 + k.n * 13) % ${RULES}), 'user' || c.n,
          1 + (c.n + d.n) % 5, 60000 * (1 + (c.n * d.n) % 90), ? + d.n * 86400000 + 43200000,
          0, 0
        FROM c, d, k`,
      args: [first, first],
    },
    {
      sql: `INSERT INTO hourly_usage (rule_id, hour_ms, pairs, users, computers, runs, run_ms,
          peak_sessions, peak_sessions_at, peak_users, peak_users_at, remote_runs, remote_run_ms,
          updated_at)
        WITH RECURSIVE ${count(RULES, "r")}, ${count(days * 24, "h")}
        SELECT 'CHD-' || (r.n + 1), ? + h.n * 3600000, 300, 300, 300, 400, 36000000, 120,
          ? + h.n * 3600000 + 600000, 110, ? + h.n * 3600000 + 600000, 0, 0, ?
        FROM r, h`,
      args: [first, first, first, Date.now()],
    },
    {
      sql: `INSERT INTO local_hour_users (rule_id, local_date, local_hour, weekday, users,
          time_zone)
        WITH RECURSIVE ${count(RULES, "r")}, ${count(days, "d")}, ${count(24, "h")}
        SELECT 'CHD-' || (r.n + 1), date(? / 1000 + d.n * 86400, 'unixepoch'), h.n,
          CAST(strftime('%u', date(? / 1000 + d.n * 86400, 'unixepoch')) AS INTEGER), 200, 'UTC'
        FROM r, d, h`,
      args: [first, first],
    },
    {
      sql: `INSERT OR IGNORE INTO summary_outbox (day)
        WITH RECURSIVE ${count(days, "d")} SELECT date(? / 1000 + d.n * 86400, 'unixepoch') FROM d`,
      args: [first],
    },
  ], "write");
  const daily = clients * days * 3;
  const records = daily + clients * days + RULES * days * 24 * 2;
  progress(`hierarchy: ${daily} daily rows, about ${records} records; last day ${dayOf(today)}`);
  return { daily, records };
}

/** How long reading every summary row of the child takes: the floor under publishing. */
async function timedRead(db: Client): Promise<number> {
  const started = performance.now();
  for (const table of ["daily_usage", "hourly_usage", "local_hour_users", "clients"]) {
    await db.execute(`SELECT * FROM ${table}`);
  }
  return performance.now() - started;
}

/** The rows' values as bare CBOR, deflated as a batch is: what the data weighs without Automerge. */
async function bareCborBytes(db: Client): Promise<number> {
  const parts: Uint8Array[] = [];
  for (const table of ["daily_usage", "hourly_usage", "local_hour_users", "clients"]) {
    const result = await db.execute(`SELECT * FROM ${table}`);
    for (const row of result.rows) parts.push(encode(Object.values(row)));
  }
  return deflateRawSync(Buffer.concat(parts)).length;
}

async function checkParent(dbPath: string, expected: number): Promise<void> {
  const db = await openSiteDatabase(dbPath);
  try {
    const result = await db.execute("SELECT count(*) AS n FROM daily_usage");
    const found = Number(result.rows[0].n);
    if (found !== expected) {
      throw new Error(`the parent holds ${found} daily rows of the child, not ${expected}`);
    }
  } finally {
    db.close();
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { clients: { type: "string" }, days: { type: "string" } },
  });
  const figures = await benchHierarchy({
    clients: values.clients ? Number(values.clients) : undefined,
    days: values.days ? Number(values.days) : undefined,
  });
  console.log("\n" + renderFigures(figures));
}
