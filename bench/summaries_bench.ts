/**
 * Summaries and reports at fleet scale (issue 3's figures), on a generated
 * data set written straight into a site database in a temporary folder:
 * by default 10,000 clients, 50 rules, 90 days, about 20 sessions per
 * client and day (about 18 million sessions). Every figure is printed next
 * to a baseline measured in the same run:
 *
 * 1. building every summary from scratch as the site does it (reading and
 *    computing on the summariser's worker thread, storing on the site's),
 *    next to one plain `SELECT count(*)` scan of `session_rows` (made to
 *    read the table, not an index);
 * 2. incremental summarisation (`Summarizer.run()`) of what reaches the site
 *    next, materialised the way sync does it (rows and `summary_pending`):
 *    one more hour of the whole fleet, then a burst of late sessions from
 *    agents that were offline for two weeks; and one refresh of the
 *    sessions still running;
 * 3. the latency (median and 95th percentile over repeated calls) of every
 *    report at `GET /v1/reports/<name>`, over HTTP from a real site process
 *    on the same database, next to `GET /v1/health`; target 200 ms at p95;
 * 4. the size of the site database per million sessions (file + WAL),
 *    before and after the summaries.
 *
 * The data set ends at a fixed hour of a working day (14:00 UTC, when
 * Europe, America's east and India are at work), the latest at least an
 * hour ago, so that figures do not depend on the hour the benchmark runs;
 * the summariser is given that clock. Raw retention is set beyond the data
 * set's days, so no summary is final.
 *
 * At full size this takes about 25 minutes on the 2-core development
 * machine (writing the data set 5, the rebuild 13, the late burst 4) and
 * about 12 GB of temporary disk, deleted at the end (`--keep` keeps it).
 *
 * @module
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  DEFAULT_SETTINGS,
  findReport,
  isRequired,
  loadSummaryState,
  openSiteDatabase,
  saveSettings,
  type SiteSettings,
  Summarizer,
  SummarizerThread,
  summaryStateStatements,
} from "../site/mod.ts";
import type { Client } from "../store/db.ts";
import { DAY_MS } from "../model/doc_id.ts";
import { KeyValueTable } from "../store/key_value_table.ts";
import { Mutex } from "../lib/mutex.ts";
import { newActorId } from "../lib/secret.ts";
import { type BenchFigure, progress, renderFigures, round } from "./bench_figure.ts";
import { startBenchSite } from "./bench_site.ts";
import { measureGet } from "./request_latency.ts";
import { type Arrival, deliverArrivals } from "./usage_arrivals.ts";
import { type HistoryOptions, isLate, writeUsageHistory } from "./usage_dataset.ts";
import { usageDocBytesPerSession } from "./usage_doc_size.ts";
import { Fleet } from "./usage_fleet.ts";

const HOUR_MS = 3_600_000;
const REPORT_TARGET_MS = 200;

export interface SummariesBenchOptions {
  clients?: number;
  rules?: number;
  days?: number;
  sessionsPerClientDay?: number;
  seed?: number;
  /** Every how-manyth client's agent was offline for `lateDays` (default 100: 1 %). */
  lateEvery?: number;
  lateDays?: number;
  /** Measured calls per report. */
  reportCalls?: number;
  /** Keep the temporary folder (its path is printed) instead of deleting it. */
  keep?: boolean;
}

export async function benchSummaries(options: SummariesBenchOptions = {}): Promise<BenchFigure[]> {
  const {
    clients = 10_000,
    rules = 50,
    days = 90,
    sessionsPerClientDay = 20,
    seed = 20_260_501,
    lateEvery = 100,
    lateDays = 14,
    reportCalls = 30,
    keep = false,
  } = options;
  const figures: BenchFigure[] = [];
  const end = dataEnd(Date.now());
  const sizes = `${clients} clients, ${rules} rules, ${days} days, ~${sessionsPerClientDay} ` +
    `sessions per client and day`;
  progress(`summaries: ${sizes}; data set ends ${new Date(end).toISOString()} (seed ${seed})`);
  const dir = await Deno.makeTempDir({ prefix: "meter-bench-summaries-" });
  const path = join(dir, "site.db");
  try {
    const fleet = new Fleet({ clients, rules, sessionsPerClientDay, seed });
    const db = await openSiteDatabase(path);
    // Writing the history in time order touches every client's part of the key at once.
    await db.execute("PRAGMA cache_size = -1048576");
    const settings: SiteSettings = {
      ...DEFAULT_SETTINGS,
      rawRetentionDays: Math.min(DEFAULT_SETTINGS.summaryRetentionDays, days + 30),
      // Kept off while incremental runs are timed; a refresh is timed on its own.
      runningRefreshSeconds: 86_400,
    };
    await prepareSite(db, settings);

    const history: HistoryOptions = { end, days, lateEvery, lateDays, progress };
    const written = await writeUsageHistory(db, fleet, history);
    const million = written.sessions / 1e6;
    progress(
      `history: ${written.sessions} sessions (${
        round(written.sessions / clients / days, 1)
      } per client and day) of ${written.users} users in ${round(written.seconds, 0)} s; ` +
        `${written.running} running at the end, ${written.multiDay} longer than a day, ` +
        `${round((100 * written.remote) / written.sessions, 1)} % remote`,
    );
    figures.push({
      name: `data set: ${sizes}, generated in ${round(written.seconds, 0)} s`,
      value: round(million, 2),
      unit: "million sessions",
    });
    // From here on, the page cache the site itself has.
    await db.execute("PRAGMA cache_size = -65536");
    const rawBytes = await databaseBytes(path);

    // 1. Everything from scratch, next to one plain scan.
    const scan = await plainScan(db, path);
    const lock = new Mutex();
    const summarizer = new Summarizer({ db, lock, settings: () => settings });
    // As the site rebuilds: reading and computing on workers, each with a
    // share of the rules, storing on this thread.
    const thread = new SummarizerThread({ db, lock, settings: () => settings });
    const ticker = setInterval(async () => {
      const last = await db.execute("SELECT max(day) AS day FROM daily_usage");
      progress(`rebuild: summarised up to ${last.rows[0].day}`);
    }, 30_000);
    const rebuilt = await thread.rebuild(end).finally(() => {
      clearInterval(ticker);
      thread.close();
    });
    const rebuildSeconds = rebuilt.ms / 1000;
    progress(`rebuild: ${rebuilt.clientDays} computer-days in ${round(rebuildSeconds, 1)} s`);
    figures.push({
      name: `summaries built from scratch (workers by rule), ${round(million, 1)}M sessions`,
      value: round(rebuildSeconds, 1),
      unit: "s",
      baseline: {
        name: "one SELECT count(updated_at) FROM session_rows (a plain scan), s",
        value: round(scan.seconds, 3),
      },
    }, {
      name: "summaries built from scratch, rate",
      value: round(written.sessions / rebuildSeconds, 0),
      unit: "sessions/s",
      baseline: { name: "the plain scan, rows/s", value: round(scan.rows / scan.seconds, 0) },
    });
    const summaryBytes = await databaseBytes(path);
    await logTableSizes(db);

    // 2. What arrives next, summarised incrementally.
    const hour = fleet.clients.map((_, client): Arrival => ({
      client,
      from: end,
      to: end + HOUR_MS,
    })).filter((a) => !isLate(a.client, lateEvery));
    figures.push(
      await incremental(db, fleet, summarizer, hour, end + HOUR_MS, {
        what: `one more hour of the fleet (${hour.length} clients)`,
        scan,
      }),
    );
    const late = fleet.clients.map((_, client): Arrival => ({
      client,
      from: end - lateDays * DAY_MS,
      to: end + HOUR_MS,
    })).filter((a) => isLate(a.client, lateEvery));
    if (late.length > 0) {
      figures.push(
        await incremental(db, fleet, summarizer, late, end + HOUR_MS + 60_000, {
          what: `late burst (${late.length} agents back after ${lateDays} days offline)`,
          scan,
        }),
      );
    }
    figures.push(await refreshRunning(db, summarizer, settings, end + 2 * HOUR_MS, scan));

    // 4. Size, with the documents a real site would also hold.
    const docs = usageDocBytesPerSession(fleet, end);
    const perMillion = (bytes: number) => round(bytes / million / 1e6, 0);
    figures.push({
      name: `site database per million sessions, with summaries (file + WAL; WAL ${
        round(summaryBytes.wal / 1e6, 0)
      } MB of ${round(summaryBytes.total / 1e6, 0)} MB)`,
      value: perMillion(summaryBytes.total),
      unit: "MB",
      baseline: {
        name: `before summaries: sessions and their indexes, clients, rules (WAL ${
          round(rawBytes.wal / 1e6, 0)
        } MB of ${round(rawBytes.total / 1e6, 0)} MB)`,
        value: perMillion(rawBytes.total),
      },
    }, {
      name:
        `usage documents a real site also stores, per million sessions (estimated from ${docs.sessions} sessions' documents)`,
      value: round(docs.bytesPerSession, 0),
      unit: "MB",
    });
    settings.runningRefreshSeconds = DEFAULT_SETTINGS.runningRefreshSeconds;
    await saveSettings(db, settings);
    await db.execute("PRAGMA wal_checkpoint(TRUNCATE)");
    db.close();

    // 3. Every report, over HTTP, from a site process on this database.
    figures.push(...await reportLatencies(dir, end, days, reportCalls));
    return figures;
  } finally {
    if (keep) progress(`summaries: kept ${dir}`);
    else await Deno.remove(dir, { recursive: true });
  }
}

/** 14:00 UTC of the latest working day (Monday to Friday) at least an hour before `now`. */
export function dataEnd(now: number): number {
  let end = Math.floor(now / DAY_MS) * DAY_MS + 14 * HOUR_MS;
  while (end > now - 2 * HOUR_MS || [0, 6].includes(new Date(end).getUTCDay())) end -= DAY_MS;
  return end;
}

async function prepareSite(db: Client, settings: SiteSettings): Promise<void> {
  const meta = new KeyValueTable(db, "site_meta");
  await meta.set("code", "S01");
  await meta.set("actor", newActorId());
  await saveSettings(db, settings);
}

interface DatabaseBytes {
  file: number;
  wal: number;
  total: number;
}

/** The database's file and write-ahead log, as they are. */
async function databaseBytes(path: string): Promise<DatabaseBytes> {
  const size = (file: string) => Deno.stat(file).then((s) => s.size, () => 0);
  const file = await size(path);
  const wal = await size(`${path}-wal`);
  progress(`database: file ${round(file / 1e6, 0)} MB, WAL ${round(wal / 1e6, 0)} MB`);
  return { file, wal, total: file + wal };
}

/** Where the bytes are, table by table, on stderr (when SQLite has `dbstat`). */
async function logTableSizes(db: Client): Promise<void> {
  try {
    const result = await db.execute(
      "SELECT name, sum(pgsize) AS bytes FROM dbstat GROUP BY name ORDER BY bytes DESC LIMIT 16",
    );
    progress(
      "size by table and index: " +
        result.rows.map((r) => `${r.name} ${round(Number(r.bytes) / 1e6, 0)} MB`).join(", "),
    );
  } catch {
    // No dbstat in this build: the total is still reported.
  }
}

interface Scan {
  rows: number;
  seconds: number;
}

/**
 * One plain scan of the sessions table that reads every row: the count of a
 * column no index holds. (`count(*) ... NOT INDEXED` reads every page of
 * the table too but only counts the cells on it; its time is logged.)
 */
async function plainScan(db: Client, path: string): Promise<Scan> {
  const sql = "SELECT count(updated_at) AS n FROM session_rows";
  const cellCount = "SELECT count(*) AS n FROM session_rows NOT INDEXED";
  // Plans on a connection of their own: with libSQL, running a statement
  // after EXPLAINing it leaves the connection unable to checkpoint its WAL.
  const other = await openSiteDatabase(path);
  for (const query of [sql, cellCount]) {
    const plan = await other.execute(`EXPLAIN QUERY PLAN ${query}`);
    const detail = plan.rows.map((r) => String(r.detail)).join("; ");
    if (detail !== "SCAN session_rows") throw new Error(`${query} does not scan: ${detail}`);
  }
  other.close();
  const timed = async (query: string) => {
    const started = performance.now();
    const rows = Number((await db.execute(query)).rows[0].n);
    return { rows, seconds: (performance.now() - started) / 1000 };
  };
  const cells = await timed(cellCount);
  const scan = await timed(sql);
  progress(
    `plain scan: ${sql}: ${scan.rows} rows in ${round(scan.seconds, 3)} s; ` +
      `${cellCount}: ${round(cells.seconds, 3)} s`,
  );
  return scan;
}

async function incremental(
  db: Client,
  fleet: Fleet,
  summarizer: Summarizer,
  arrivals: Arrival[],
  now: number,
  { what, scan }: { what: string; scan: Scan },
): Promise<BenchFigure> {
  const delivered = await deliverArrivals(db, fleet, arrivals);
  const pending = Number(
    (await db.execute("SELECT count(*) AS n FROM summary_pending")).rows[0].n,
  );
  progress(
    `incremental, ${what}: ${delivered.started} sessions started, ${delivered.ended} ended, ` +
      `${delivered.documents} documents, ${pending} pending; summarising`,
  );
  const run = await summarizer.run(now);
  const seconds = run.ms / 1000;
  progress(
    `incremental, ${what}: ${run.sessions} sessions, ${run.hours} hours, ` +
      `${run.clientDays} computer-days in ${round(seconds, 2)} s`,
  );
  return {
    name: `incremental summarisation, ${what}: ${run.sessions} sessions, ${run.hours} hours, ` +
      `${run.clientDays} computer-days in ${round(seconds, 1)} s`,
    value: round(run.sessions / seconds, 0),
    unit: "sessions/s",
    baseline: { name: "the plain scan, rows/s", value: round(scan.rows / scan.seconds, 0) },
  };
}

/** One refresh of sessions still running, five minutes after the last (the default period). */
async function refreshRunning(
  db: Client,
  summarizer: Summarizer,
  settings: SiteSettings,
  lastRefresh: number,
  scan: Scan,
): Promise<BenchFigure> {
  const state = await loadSummaryState(db);
  await db.batch(
    summaryStateStatements(db, { ...state, runningRefreshedAt: lastRefresh }),
    "write",
  );
  settings.runningRefreshSeconds = DEFAULT_SETTINGS.runningRefreshSeconds;
  const running = Number(
    (await db.execute("SELECT count(*) AS n FROM session_rows WHERE end_ms IS NULL")).rows[0].n,
  );
  const run = await summarizer.run(lastRefresh + settings.runningRefreshSeconds * 1000);
  if (!run.refreshedRunning) throw new Error("the summariser did not refresh running sessions");
  const seconds = run.ms / 1000;
  progress(
    `refresh: ${running} running sessions, ${run.hours} hours and ${run.clientDays} ` +
      `computer-days in ${round(seconds, 2)} s`,
  );
  return {
    name: `one refresh of ${running} running sessions (${run.hours} hours, ${run.clientDays} ` +
      `computer-days)`,
    value: round(seconds, 2),
    unit: "s",
    baseline: { name: "the plain scan, s", value: round(scan.seconds, 3) },
    target: `<= ${settings.runningRefreshSeconds}`,
  };
}

/** The parameters each report is called with, by parameter name. */
function reportParameters(end: number, days: number): Record<string, string> {
  const current = new Date(end).toISOString().slice(0, 7);
  const [year, index] = current.split("-").map(Number);
  const previous = Date.UTC(year, index - 2, 1);
  return {
    // The rule run on nearly every computer: the largest answers.
    rule: "S01-1",
    // The last whole month of the data set, if it holds one.
    month: new Date(end - days * DAY_MS <= previous ? previous : end).toISOString().slice(0, 7),
    months: "12",
    days: "90",
    since: new Date(end - Math.min(30, Math.floor(days / 3)) * DAY_MS).toISOString().slice(0, 10),
  };
}

async function reportLatencies(
  dir: string,
  end: number,
  days: number,
  calls: number,
): Promise<BenchFigure[]> {
  progress("reports: starting a site process on the data set");
  const site = await startBenchSite(dir);
  const authorization = `Bearer ${site.admin}`;
  try {
    const health = await measureGet(`${site.url}/v1/health`, authorization, calls);
    const list = await fetch(`${site.url}/v1/reports`, { headers: { authorization } });
    if (list.status !== 200) {
      await list.body?.cancel();
      progress(`reports: GET /v1/reports answered ${list.status}: no report to measure yet`);
      return [{
        name: `reports: GET /v1/reports answered ${list.status}, not measured`,
        value: 0,
        unit: "reports",
      }];
    }
    const { reports } = await list.json() as {
      reports: { name: string; parameters: string[] }[];
    };
    // Catch up as the site itself would (it last refreshed running sessions at the data set's clock).
    const warm = await fetch(`${site.url}/v1/summaries/run`, {
      method: "POST",
      headers: { authorization },
    });
    progress(`reports: the site's first summariser run: ${await warm.text()}`);
    const values = reportParameters(end, days);
    const figures: BenchFigure[] = [];
    for (const report of reports) {
      // Optional parameters this bench has no value for are left out.
      const spec = findReport(report.name);
      const given = report.parameters.filter((p) => p in values || !spec || isRequired(spec, p));
      const unknown = given.filter((p) => !(p in values));
      if (unknown.length > 0) {
        progress(`reports: ${report.name} takes ${unknown.join(", ")}, which this bench lacks`);
        continue;
      }
      const query = new URLSearchParams(given.map((p) => [p, values[p]]));
      const path = `/v1/reports/${report.name}${query.size ? `?${query}` : ""}`;
      const latency = await measureGet(`${site.url}${path}`, authorization, calls);
      progress(
        `reports: ${path}: median ${round(latency.medianMs, 1)} ms, p95 ${
          round(latency.p95Ms, 1)
        } ms, ${latency.bytes} bytes`,
      );
      figures.push({
        name: `GET ${path} (${latency.bytes} bytes), median of ${calls}`,
        value: round(latency.medianMs, 1),
        unit: "ms",
        baseline: { name: "GET /v1/health, median", value: round(health.medianMs, 2) },
      }, {
        name: `GET ${path}, p95 of ${calls}`,
        value: round(latency.p95Ms, 1),
        unit: "ms",
        baseline: { name: "GET /v1/health, p95", value: round(health.p95Ms, 2) },
        target: `<= ${REPORT_TARGET_MS}`,
      });
    }
    return figures;
  } finally {
    await site.stop();
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      clients: { type: "string" },
      rules: { type: "string" },
      days: { type: "string" },
      "sessions-per-day": { type: "string" },
      "report-calls": { type: "string" },
      seed: { type: "string" },
      keep: { type: "boolean" },
      json: { type: "boolean" },
    },
  });
  const number = (value: string | undefined) => value === undefined ? undefined : Number(value);
  const figures = await benchSummaries({
    clients: number(values.clients),
    rules: number(values.rules),
    days: number(values.days),
    sessionsPerClientDay: number(values["sessions-per-day"]),
    reportCalls: number(values["report-calls"]),
    seed: number(values.seed),
    keep: values.keep,
  });
  if (values.json) console.log(JSON.stringify(figures, null, 2));
  else console.log("\n" + renderFigures(figures));
}
