/**
 * The SQL that stores recomputed summary buckets. Rows of a bucket are
 * replaced as a whole (delete, then insert), so a bucket that lost its last
 * session loses its rows. Many rows travel as one JSON parameter spread by
 * `json_each`: one short statement instead of thousands of parameters.
 *
 * Monthly rows, monthly totals and local-hour user counts are aggregated in
 * SQL from the tables below them, in the same transaction, after those.
 *
 * @module
 */
import type { InStatement } from "../../sync/db.ts";
import type { ClientDayFigures } from "./client_day_figures.ts";
import type { HourFigures } from "./hour_figures.ts";

function bulkInsert(table: string, columns: string[], rows: unknown[][]): InStatement[] {
  if (rows.length === 0) return [];
  const values = columns.map((_, i) => `value ->> ${i}`).join(", ");
  return [{
    sql: `INSERT INTO ${table} (${columns.join(", ")}) SELECT ${values} FROM json_each(?)`,
    args: [JSON.stringify(rows)],
  }];
}

/** Replaces the hourly rows of the hours `[from, to)`. */
export function hourStatements(
  from: number,
  to: number,
  figures: HourFigures[],
  now: number,
): InStatement[] {
  return [
    { sql: "DELETE FROM hourly_usage WHERE hour_ms >= ? AND hour_ms < ?", args: [from, to] },
    ...bulkInsert(
      "hourly_usage",
      [
        "rule_id",
        "hour_ms",
        "pairs",
        "users",
        "computers",
        "runs",
        "run_ms",
        "peak_sessions",
        "peak_sessions_at",
        "peak_users",
        "peak_users_at",
        "remote_runs",
        "remote_run_ms",
        "updated_at",
      ],
      figures.map((f) => [
        f.ruleId,
        f.hour,
        f.pairs,
        f.users,
        f.computers,
        f.runs,
        f.runMs,
        f.peakSessions,
        f.peakSessionsAt,
        f.peakUsers,
        f.peakUsersAt,
        f.remoteRuns,
        f.remoteRunMs,
        now,
      ]),
    ),
  ];
}

/** Replaces one computer's daily cells and local-hour presence of a UTC day. */
export function clientDayStatements(
  clientId: string,
  day: string,
  figures: ClientDayFigures,
): InStatement[] {
  return [
    { sql: "DELETE FROM daily_usage WHERE client_id = ? AND day = ?", args: [clientId, day] },
    ...bulkInsert(
      "daily_usage",
      [
        "client_id",
        "day",
        "rule_id",
        "user_name",
        "runs",
        "run_ms",
        "last_use_ms",
        "remote_runs",
        "remote_run_ms",
      ],
      figures.cells.map((
        c,
      ) => [
        clientId,
        day,
        c.ruleId,
        c.user,
        c.runs,
        c.runMs,
        c.lastUseMs,
        c.remoteRuns,
        c.remoteRunMs,
      ]),
    ),
    {
      sql: "DELETE FROM local_presence WHERE client_id = ? AND utc_day = ?",
      args: [clientId, day],
    },
    ...bulkInsert(
      "local_presence",
      ["rule_id", "local_date", "local_hour", "user_name", "client_id", "utc_day"],
      figures.presence.map((p) => [p.ruleId, p.localDate, p.localHour, p.user, clientId, day]),
    ),
  ];
}

const MONTHLY_FROM_DAILY = `SELECT rule_id, substr(day, 1, 7), user_name, client_id, sum(runs),
  sum(run_ms), max(last_use_ms), sum(remote_runs), sum(remote_run_ms) FROM daily_usage`;
const MONTHLY_COLUMNS = "rule_id, month, user_name, client_id, runs, run_ms, last_use_ms, " +
  "remote_runs, remote_run_ms";

/** Re-adds one computer's monthly rows from its daily cells. */
export function clientMonthStatements(clientId: string, month: string): InStatement[] {
  return [
    { sql: "DELETE FROM monthly_usage WHERE client_id = ? AND month = ?", args: [clientId, month] },
    {
      sql: `INSERT INTO monthly_usage (${MONTHLY_COLUMNS}) ${MONTHLY_FROM_DAILY}
        WHERE client_id = ? AND day >= ? AND day < ? GROUP BY rule_id, user_name`,
      args: [clientId, `${month}-01`, `${month}-32`],
    },
  ];
}

const TOTALS_FROM_MONTHLY = `SELECT rule_id, month, count(DISTINCT user_name),
  count(DISTINCT client_id), sum(runs), sum(run_ms),
  count(DISTINCT CASE WHEN remote_runs > 0 OR remote_run_ms > 0 THEN user_name END),
  count(DISTINCT CASE WHEN remote_runs > 0 OR remote_run_ms > 0 THEN client_id END),
  sum(remote_runs), sum(remote_run_ms) FROM monthly_usage`;
const TOTALS_COLUMNS = "rule_id, month, users, computers, runs, run_ms, remote_users, " +
  "remote_computers, remote_runs, remote_run_ms";

/** Re-adds a rule's totals of a month from its monthly rows. */
export function ruleMonthStatements(ruleId: string, month: string): InStatement[] {
  return [
    { sql: "DELETE FROM monthly_totals WHERE rule_id = ? AND month = ?", args: [ruleId, month] },
    {
      sql: `INSERT INTO monthly_totals (${TOTALS_COLUMNS}) ${TOTALS_FROM_MONTHLY}
        WHERE rule_id = ? AND month = ? GROUP BY rule_id, month`,
      args: [ruleId, month],
    },
  ];
}

const CELLS_FROM_PRESENCE = `SELECT rule_id, local_date, local_hour,
  CAST(strftime('%u', local_date) AS INTEGER), count(DISTINCT user_name) FROM local_presence`;
const CELL_COLUMNS = "rule_id, local_date, local_hour, weekday, users";

/** Recounts the distinct users of a rule in one local hour of one local date. */
export function localHourStatements(ruleId: string, date: string, hour: number): InStatement[] {
  const where = "rule_id = ? AND local_date = ? AND local_hour = ?";
  return [
    { sql: `DELETE FROM local_hour_users WHERE ${where}`, args: [ruleId, date, hour] },
    {
      sql: `INSERT INTO local_hour_users (${CELL_COLUMNS}) ${CELLS_FROM_PRESENCE}
        WHERE ${where} GROUP BY rule_id, local_date, local_hour`,
      args: [ruleId, date, hour],
    },
  ];
}

/** After a rebuild of the tables below them: every monthly row, total and cell at once. */
export const aggregateAllStatements: InStatement[] = [
  "DELETE FROM monthly_usage",
  `INSERT INTO monthly_usage (${MONTHLY_COLUMNS}) ${MONTHLY_FROM_DAILY}
    GROUP BY rule_id, substr(day, 1, 7), user_name, client_id`,
  "DELETE FROM monthly_totals",
  `INSERT INTO monthly_totals (${TOTALS_COLUMNS}) ${TOTALS_FROM_MONTHLY} GROUP BY rule_id, month`,
  "DELETE FROM local_hour_users",
  `INSERT INTO local_hour_users (${CELL_COLUMNS}) ${CELLS_FROM_PRESENCE}
    GROUP BY rule_id, local_date, local_hour`,
];
