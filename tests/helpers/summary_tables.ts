/**
 * A running site's summary tables read straight from its database file, in
 * the shapes {@linkcode oracleHours}, {@linkcode oracleMonths} and
 * {@linkcode oracleLocalHours} compute, so a test compares them with
 * `toEqual` and a difference names the bucket.
 *
 * @module
 */
import { NO_USAGE } from "../../site/reports/monthly_totals.ts";
import { withSiteDb } from "./site_tables.ts";
import {
  oracleHours,
  oracleLocalHours,
  type OracleMonth,
  oracleMonths,
  type OracleSession,
} from "./summary_oracle.ts";

type Row = Record<string, unknown>;

async function table(path: string, sql: string): Promise<Row[]> {
  return await withSiteDb(path, async (db) => {
    const result = await db.execute(sql);
    return result.rows.map((row) => Object.fromEntries(result.columns.map((c) => [c, row[c]])));
  });
}

export interface SummaryFigures {
  /** `rule|hourMs` → the hourly figures. */
  hourly: Record<string, unknown>;
  /** `rule|month|user|client` → the monthly row. */
  monthly: Record<string, OracleMonth>;
  /** `rule|month` → the monthly totals. */
  totals: Record<string, unknown>;
  /** `rule|localDate|localHour` → distinct users. */
  localHours: Record<string, number>;
}

/** An `hourly_usage` row in the shape {@linkcode oracleHours} gives. */
export function hourlyFigures(r: Row): Record<string, unknown> {
  return {
    pairs: r.pairs,
    users: r.users,
    computers: r.computers,
    runs: r.runs,
    runMs: r.run_ms,
    peakSessions: r.peak_sessions,
    peakSessionsAt: r.peak_sessions_at,
    peakUsers: r.peak_users,
    peakUsersAt: r.peak_users_at,
    remoteRuns: r.remote_runs,
    remoteRunMs: r.remote_run_ms,
  };
}

/** The summary tables as they are now. */
export async function siteSummaries(path: string): Promise<SummaryFigures> {
  const hourly = await table(path, "SELECT * FROM hourly_usage");
  const monthly = await table(path, "SELECT * FROM monthly_usage");
  const totals = await table(path, "SELECT * FROM monthly_totals");
  const local = await table(path, "SELECT * FROM local_hour_users");
  return {
    hourly: Object.fromEntries(hourly.map((r) => [`${r.rule_id}|${r.hour_ms}`, hourlyFigures(r)])),
    monthly: Object.fromEntries(
      monthly.map((r) => [`${r.rule_id}|${r.month}|${r.user_name}|${r.client_id}`, {
        runs: r.runs as number,
        runMs: r.run_ms as number,
        lastUseMs: r.last_use_ms as number,
        remoteRuns: r.remote_runs as number,
        remoteRunMs: r.remote_run_ms as number,
      }]),
    ),
    totals: Object.fromEntries(totals.map((r) => [`${r.rule_id}|${r.month}`, {
      users: r.users,
      computers: r.computers,
      runs: r.runs,
      runMs: r.run_ms,
      remoteUsers: r.remote_users,
      remoteComputers: r.remote_computers,
      remoteRuns: r.remote_runs,
      remoteRunMs: r.remote_run_ms,
    }])),
    localHours: Object.fromEntries(
      local.map((r) => [
        `${r.rule_id}|${r.local_date}|${r.local_hour}|${r.time_zone}`,
        r.users as number,
      ]),
    ),
  };
}

/** What the summary tables should hold for these (closed, whole-minute) sessions. */
export function oracleSummaries(sessions: OracleSession[]): SummaryFigures {
  const monthly = Object.fromEntries(oracleMonths(sessions));
  const totals: Record<string, Record<string, number>> = {};
  const sets = new Map<string, { users: Set<string>; computers: Set<string> }[]>();
  for (const [key, m] of Object.entries(monthly)) {
    const [rule, month, user, client] = key.split("|");
    const k = `${rule}|${month}`;
    totals[k] ??= { ...NO_USAGE };
    const [all, remote] = sets.get(k) ??
      sets.set(k, [{ users: new Set(), computers: new Set() }, {
        users: new Set(),
        computers: new Set(),
      }]).get(k)!;
    all.users.add(user);
    all.computers.add(client);
    if (m.remoteRuns > 0 || m.remoteRunMs > 0) {
      remote.users.add(user);
      remote.computers.add(client);
    }
    const t = totals[k];
    t.users = all.users.size;
    t.computers = all.computers.size;
    t.remoteUsers = remote.users.size;
    t.remoteComputers = remote.computers.size;
    t.runs += m.runs;
    t.runMs += m.runMs;
    t.remoteRuns += m.remoteRuns;
    t.remoteRunMs += m.remoteRunMs;
  }
  return {
    hourly: Object.fromEntries(oracleHours(sessions)),
    monthly,
    totals,
    localHours: Object.fromEntries(oracleLocalHours(sessions)),
  };
}
