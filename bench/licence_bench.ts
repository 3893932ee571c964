/**
 * Licence positions at scale, on a generated fleet of 10,000 clients (by
 * default), each with about 20 of 300 programs installed (300 rules, one per
 * program), 90 days of usage summaries (a third of installed programs used,
 * on about 30% of days: about 1.8 million `daily_usage` rows and the
 * `monthly_usage` rows made from them), raw sessions of the last 30 days for
 * the rules of concurrent licences, and 200 licences (120 per device, 50
 * named user, 30 concurrent; pools of one to three rules). All are written
 * in SQL straight into a site database, as materialisation and the
 * summariser would leave them.
 *
 * Figures:
 *
 * 1. **At a site**: a first refresh of every position (counts from the
 *    summaries, the concurrent licences' day curves from raw sessions) and a
 *    second with nothing new, beside one plain scan of the window's
 *    `daily_usage` rows; then `GET /v1/reports/licence-position` through a
 *    real site process, p95, beside `install-base` on the same data.
 * 2. **At a parent of ten child sites**: the same database given ten child
 *    sites whose counts and curves are those of the site (as their summary
 *    documents would bring them), the refresh that merges the day peaks of
 *    eleven sites, and `licence-position` at the parent beside `install-base`.
 *
 * `deno run -A bench/licence_bench.ts [--clients N]` runs it alone.
 *
 * @module
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { generatedClientsStatement, openSiteDatabase, refreshLicences } from "../site/mod.ts";
import type { Client, InStatement } from "../store/db.ts";
import { DAY_MS, dayOf } from "../model/doc_id.ts";
import { type BenchFigure, progress, renderFigures, round } from "./bench_figure.ts";
import { startBenchSite } from "./bench_site.ts";
import { measureGet } from "./request_latency.ts";

const PROGRAMS = 300;
const LICENCES = 200;
const DAYS = 90;
const RAW_DAYS = 30;
const CHILDREN = 10;
const TARGET_MS = 300;

export async function benchLicences(options: { clients?: number } = {}): Promise<BenchFigure[]> {
  const clients = options.clients ?? 10_000;
  const dir = await Deno.makeTempDir({ prefix: "meter-bench-licences-" });
  try {
    const now = Date.now();
    const db = await openSiteDatabase(join(dir, "site.db"));
    await generate(db, clients, now);
    const scan = await timed(() =>
      db.execute({
        sql: "SELECT count(*) AS n, sum(run_ms) FROM daily_usage WHERE day >= ?",
        args: [dayOf(now - (DAYS - 1) * DAY_MS)],
      })
    );
    const place = {
      db,
      code: "S01",
      ancestors: [],
      rawRetentionDays: RAW_DAYS,
      write: (statements: InStatement[]) => db.batch(statements, "write"),
    };
    progress(`licences: first refresh of ${LICENCES} licences`);
    const first = await timed(() => refreshLicences(place, now));
    progress(`licences: first refresh ${round(first.ms, 0)} ms (${JSON.stringify(first.result)})`);
    const second = await timed(() => refreshLicences(place, now));
    db.close();
    const site = await reportLatency(dir, "at a site");

    const parent = await openSiteDatabase(join(dir, "site.db"));
    await addChildren(parent);
    const merge = await timed(() =>
      refreshLicences({
        ...place,
        db: parent,
        write: (statements: InStatement[]) => parent.batch(statements, "write"),
      }, now)
    );
    progress(`licences: parent merge ${round(merge.ms, 0)} ms (${JSON.stringify(merge.result)})`);
    parent.close();
    const atParent = await reportLatency(dir, `at a parent of ${CHILDREN} child sites`);

    const size = `${clients} clients × ${DAYS} days, ${LICENCES} licences`;
    const scanBaseline = {
      name: `one plain scan of the window's ${scan.result.rows[0].n} daily_usage rows, ms`,
      value: round(scan.ms, 0),
    };
    return [
      {
        name:
          `licence refresh from scratch (counts, and day curves of 30 concurrent licences), ${size}`,
        value: round(first.ms, 0),
        unit: "ms",
        baseline: scanBaseline,
      },
      {
        name: "licence refresh with nothing new",
        value: round(second.ms, 0),
        unit: "ms",
        baseline: scanBaseline,
      },
      ...site,
      {
        name:
          `licence refresh at a parent of ${CHILDREN} child sites: day peaks of 11 sites merged`,
        value: round(merge.ms, 0),
        unit: "ms",
        baseline: { name: "refresh at the site with nothing new, ms", value: round(second.ms, 0) },
      },
      ...atParent,
    ];
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function timed<T>(work: () => Promise<T>) {
  const started = performance.now();
  const result = await work();
  return { result, ms: performance.now() - started };
}

/** `licence-position` beside `install-base`, through a real site process. */
async function reportLatency(dir: string, where: string): Promise<BenchFigure[]> {
  const site = await startBenchSite(dir);
  try {
    const authorization = `Bearer ${site.admin}`;
    const calls = 30;
    const installBase = await measureGet(
      `${site.url}/v1/reports/install-base?days=${DAYS}`,
      authorization,
      calls,
    );
    const position = await measureGet(
      `${site.url}/v1/reports/licence-position`,
      authorization,
      calls,
    );
    progress(
      `licences: licence-position ${where}: median ${round(position.medianMs, 1)} ms, p95 ${
        round(position.p95Ms, 1)
      } ms; install-base p95 ${round(installBase.p95Ms, 1)} ms`,
    );
    return [{
      name: `GET /v1/reports/licence-position ${where}, p95 of ${calls}`,
      value: round(position.p95Ms, 1),
      unit: "ms",
      baseline: { name: "install-base on the same data, p95", value: round(installBase.p95Ms, 1) },
      target: `<= ${TARGET_MS}`,
    }];
  } finally {
    await site.stop();
  }
}

/** The fleet, its inventory, summaries, raw sessions of concurrent pools, rules and licences. */
async function generate(db: Client, clients: number, now: number): Promise<void> {
  const started = performance.now();
  const step = (what: string) =>
    progress(`licences: ${what} (${round((performance.now() - started) / 1000, 0)} s)`);
  await db.execute("PRAGMA journal_mode = WAL");
  await db.execute(generatedClientsStatement(clients, "c%d", now));
  await db.batch(rulesStatements(now), "write");
  // Program n is installed on 1% to 13% of computers: about 20 per computer.
  await db.batch([{
    sql: `INSERT INTO software (client_id, product_key, name, name_lc, version, publisher,
        source, installed_at)
      WITH RECURSIVE p(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM p WHERE n + 1 < ?)
      SELECT c.client_id, 'desktop/pkg' || p.n, 'pkg' || p.n, 'pkg' || p.n, '1.0', '',
        'desktop', ?
      FROM clients c, p
      WHERE (CAST(substr(c.client_id, 2) AS INTEGER) * 7919 + p.n * 104729) % 100
        < 1 + (p.n * 37) % 13`,
    args: [PROGRAMS, now - 200 * DAY_MS],
  }, {
    sql: `INSERT INTO software_files (client_id, product_key, path, file_name, real_name, sha256)
      SELECT client_id, product_key, '/usr/bin/' || name, name, NULL, NULL FROM software`,
    args: [],
  }], "write");
  step("inventory written");
  const firstDay = dayOf(now - (DAYS - 1) * DAY_MS);
  // A third of installed programs are used, each on about 30% of the days, 5 to 95 minutes.
  await db.batch([{
    sql: `INSERT INTO daily_usage (client_id, day, rule_id, user_name, runs, run_ms, last_use_ms,
        remote_runs, remote_run_ms)
      WITH RECURSIVE d(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM d WHERE n + 1 < ?),
      used AS (
        SELECT client_id, 'S01-' || (CAST(substr(name, 4) AS INTEGER) + 1) AS rule_id,
          CAST(substr(client_id, 2) AS INTEGER) AS c, CAST(substr(name, 4) AS INTEGER) AS p
        FROM software WHERE (CAST(substr(client_id, 2) AS INTEGER) + CAST(substr(name, 4) AS INTEGER)) % 3 = 0
      )
      SELECT client_id, date(?, '+' || d.n || ' days'), rule_id, 'u' || c, 1,
        (5 + (c * 31 + d.n * 17 + p) % 90) * 60000,
        unixepoch(date(?, '+' || d.n || ' days')) * 1000 + 9 * 3600000, 0, 0
      FROM used, d WHERE (c * 13 + d.n * 7 + p * 3) % 10 < 3`,
    args: [DAYS, firstDay, firstDay],
  }], "write");
  step("daily usage written");
  await db.batch([{
    sql: `INSERT INTO monthly_usage (rule_id, month, user_name, client_id, runs, run_ms,
        last_use_ms, remote_runs, remote_run_ms)
      SELECT rule_id, substr(day, 1, 7), user_name, client_id, sum(runs), sum(run_ms),
        max(last_use_ms), 0, 0
      FROM daily_usage GROUP BY rule_id, substr(day, 1, 7), user_name, client_id`,
    args: [],
  }], "write");
  step("monthly usage written");
  const licences = licenceRows(now);
  await db.batch(licences.statements, "write");
  // Raw sessions of the last 30 days for the concurrent pools' rules, one per daily row, from 08:00.
  const program = `'["/usr/bin/x","x","1.0",null]'`;
  const ofPools = "day >= ? AND rule_id IN (SELECT value FROM json_each(?))";
  const poolArgs = [
    dayOf(now - (RAW_DAYS - 1) * DAY_MS),
    JSON.stringify([...licences.concurrentRules]),
  ];
  await db.batch([
    `INSERT OR IGNORE INTO session_programs (key, exe, argv0, version, language)
      VALUES (${program}, '/usr/bin/x', 'x', '1.0', NULL)`,
    {
      sql: `INSERT OR IGNORE INTO session_clients (client_id)
        SELECT DISTINCT client_id FROM daily_usage WHERE ${ofPools}`,
      args: poolArgs,
    },
    {
      sql: `INSERT OR IGNORE INTO session_users (user_name)
        SELECT DISTINCT user_name FROM daily_usage WHERE ${ofPools}`,
      args: poolArgs,
    },
    {
      sql: `INSERT INTO session_rows (client_key, session_id, rule_id, user_key, program_id, pid,
          start_ms, end_ms, start_not_captured, end_not_captured, remote, updated_at,
          clock_offset_ms)
        SELECT c.id, d.day || '/' || d.rule_id, d.rule_id, u.id, p.id, 1, d.start_ms,
          d.start_ms + d.run_ms, 0, 0, 0, ?, 0
        FROM (SELECT client_id, day, rule_id, user_name, run_ms,
            last_use_ms - 3600000 + (abs(random()) % 28800000) AS start_ms
          FROM daily_usage WHERE ${ofPools}) d
        JOIN session_clients c ON c.client_id = d.client_id
        JOIN session_users u ON u.user_name = d.user_name
        JOIN session_programs p ON p.key = ${program}`,
      args: [now, ...poolArgs],
    },
  ], "write");
  const counts = await db.execute(
    `SELECT (SELECT count(*) FROM software) AS software, (SELECT count(*) FROM daily_usage) AS daily,
      (SELECT count(*) FROM monthly_usage) AS monthly, (SELECT count(*) FROM usage_sessions) AS sessions`,
  );
  step(`${JSON.stringify(counts.rows[0])}`);
  await db.execute("ANALYZE");
}

function rulesStatements(now: number): InStatement[] {
  return Array.from({ length: PROGRAMS }, (_, n) => ({
    sql: `INSERT INTO rules (id, name, file_name, original_file_name, sha256, version, language,
        site_code, apply_to_child_sites, enabled, comment, origin, created_at, updated_at)
      VALUES (?, ?, ?, NULL, NULL, '*', NULL, 'S01', 1, 1, '', 'manual', ?, ?)`,
    args: [`S01-${n + 1}`, `Program ${n}`, `pkg${n}`, now, now],
  }));
}

/** 120 per-device, 50 named-user and 30 concurrent licences; pools of 1 to 3 rules. */
function licenceRows(now: number) {
  const concurrentRules = new Set<string>();
  const statements = Array.from({ length: LICENCES }, (_, i): InStatement => {
    const model = i < 120 ? "device" : i < 170 ? "user" : "concurrent";
    const pool = [i, i + 100, i + 200].slice(0, 1 + (i % 3)).map((r) =>
      `S01-${(r % PROGRAMS) + 1}`
    );
    if (model === "concurrent") pool.forEach((r) => concurrentRules.add(r));
    return {
      sql: `INSERT INTO licences (id, name, rule_ids, model, quantity, unit_cost, cost_period,
          currency, contract_start, contract_end, covers_site, threshold_minutes, window_days,
          alert_at_percent, site_code, comment, created_at, updated_at)
        VALUES (?, ?, ?, ?, ?, 100, 'year', 'EUR', NULL, NULL, 'S01', 1, ?, 90, 'S01', '', ?, ?)`,
      args: [`S01-L${i + 1}`, `Licence ${i}`, JSON.stringify(pool), model, 50 + i, DAYS, now, now],
    };
  });
  return { statements, concurrentRules };
}

/** Ten child sites whose counts and curves are this site's, as their summaries would bring them. */
async function addChildren(db: Client): Promise<void> {
  const codes = Array.from({ length: CHILDREN }, (_, i) => `C${String(i).padStart(2, "0")}`);
  await db.batch(
    codes.flatMap((code): InStatement[] => [
      {
        sql:
          "INSERT INTO known_sites (code, parent_code, actor, via_child) VALUES (?, 'S01', '', ?)",
        args: [code, code],
      },
      {
        sql: `INSERT INTO licence_site_figures SELECT licence_id, ?, day, computed_at, window_from,
        installed, installed_used, used_computers, used_users, known_users
        FROM licence_site_figures WHERE site_code = 'S01'`,
        args: [code],
      },
      {
        sql: `INSERT INTO licence_day_curves SELECT licence_id, day, ?, points, ?
        FROM licence_day_curves WHERE site_code = 'S01'`,
        args: [code, Date.now()],
      },
    ]),
    "write",
  );
}

if (import.meta.main) {
  const { values } = parseArgs({ args: Deno.args, options: { clients: { type: "string" } } });
  const figures = await benchLicences({
    clients: values.clients ? Number(values.clients) : undefined,
  });
  console.log("\n" + renderFigures(figures));
}
