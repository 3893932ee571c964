/**
 * The SQL that stores recomputed summary buckets. Rows of a bucket are
 * replaced as a whole (delete, then insert), so a bucket that lost its last
 * session loses its rows. Many rows travel as one JSON parameter spread by
 * `json_each`: one short statement instead of thousands of parameters.
 *
 * Monthly rows and monthly totals are aggregated in SQL from the tables
 * below them, in the same transaction, after those (a rebuild adds up the
 * monthly rows itself: `rebuild_sums.ts`).
 *
 * @module
 */
import type { InStatement } from "../../store/db.ts";
import { JSON_ROWS, jsonFields, withJsonRows } from "../../store/json_rows.ts";
import type { ClientDayFigures } from "./client_day_figures.ts";
import type { HourFigures } from "./hour_figures.ts";

/** Rows per bulk statement: keeps each JSON parameter to a few megabytes. */
const ROWS_PER_STATEMENT = 20_000;

/** `sql` once per {@linkcode ROWS_PER_STATEMENT} rows, given as its JSON array parameter. */
function perRows(sql: string, rows: unknown[][]): InStatement[] {
  const statements: InStatement[] = [];
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
    statements.push({ sql, args: [JSON.stringify(rows.slice(i, i + ROWS_PER_STATEMENT))] });
  }
  return statements;
}

/** Inserts rows, given in `columns`' order, a bounded JSON parameter at a time. */
export function bulkInsert(table: string, columns: string[], rows: unknown[][]): InStatement[] {
  const sql = `${withJsonRows()} INSERT INTO ${table} (${columns.join(", ")})
    SELECT ${jsonFields(columns.length)} FROM ${JSON_ROWS}`;
  return perRows(sql, rows);
}

/** Replaces the hourly rows of the hours `[from, to)`: of `rules`, or of every rule. */
export function hourStatements(
  from: number,
  to: number,
  figures: HourFigures[],
  now: number,
  rules?: Iterable<string>,
): InStatement[] {
  const remove = rules === undefined
    ? { sql: "DELETE FROM hourly_usage WHERE hour_ms >= ? AND hour_ms < ?", args: [from, to] }
    : {
      sql: `DELETE FROM hourly_usage WHERE rule_id IN (SELECT value FROM json_each(?))
        AND hour_ms >= ? AND hour_ms < ?`,
      args: [JSON.stringify([...rules]), from, to],
    };
  return [remove, ...hourInserts(figures, now)];
}

/** Inserts hourly rows (where none of theirs are stored: a rebuild's emptied table). */
export function hourInserts(figures: HourFigures[], now: number): InStatement[] {
  return bulkInsert(
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
  );
}

/** Replaces the daily cells of some computers for one UTC day. */
export function clientDaysStatements(
  day: string,
  clients: { clientId: string; figures: ClientDayFigures }[],
): InStatement[] {
  const ids = JSON.stringify(clients.map((c) => c.clientId));
  const ofClients = "client_id IN (SELECT value FROM json_each(?))";
  return [
    { sql: `DELETE FROM daily_usage WHERE day = ? AND ${ofClients}`, args: [day, ids] },
    ...clientDaysInserts(day, clients),
  ];
}

/** Inserts some computers' daily cells of one UTC day (where none of theirs are stored). */
export function clientDaysInserts(
  day: string,
  clients: { clientId: string; figures: ClientDayFigures }[],
): InStatement[] {
  return bulkInsert(
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
      "time_zone",
      "local_hours",
    ],
    clients.flatMap(({ clientId, figures }) =>
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
        figures.timeZone,
        c.localHours,
      ])
    ),
  );
}

const MONTHLY_FROM_DAILY = `SELECT rule_id, substr(day, 1, 7), user_name, client_id, sum(runs),
  sum(run_ms), max(last_use_ms), sum(remote_runs), sum(remote_run_ms) FROM daily_usage`;
const MONTHLY_COLUMNS = "rule_id, month, user_name, client_id, runs, run_ms, last_use_ms, " +
  "remote_runs, remote_run_ms";

/**
 * Re-adds some computers' monthly rows of a month from their daily cells.
 * The month's days are named one by one, so that each (day, computer) is
 * one seek of `daily_usage`'s key rather than a read of the whole month.
 */
export function clientMonthsStatements(month: string, clientIds: string[]): InStatement[] {
  const ids = JSON.stringify(clientIds);
  const ofClients = "client_id IN (SELECT value FROM json_each(?))";
  const days = JSON.stringify(daysOfMonth(month));
  return [
    { sql: `DELETE FROM monthly_usage WHERE month = ? AND ${ofClients}`, args: [month, ids] },
    {
      sql: `INSERT INTO monthly_usage (${MONTHLY_COLUMNS}) ${MONTHLY_FROM_DAILY}
        WHERE day IN (SELECT value FROM json_each(?)) AND ${ofClients}
        GROUP BY rule_id, user_name, client_id`,
      args: [days, ids],
    },
  ];
}

/** `YYYY-MM-DD` of every day of a month `YYYY-MM`. */
function daysOfMonth(month: string): string[] {
  const [year, index] = month.split("-").map(Number);
  const length = new Date(Date.UTC(year, index, 0)).getUTCDate();
  return Array.from({ length }, (_, i) => `${month}-${String(i + 1).padStart(2, "0")}`);
}

/**
 * A rule's totals of a month from its monthly rows, named as `monthly_totals`
 * names them: what is stored, and what a report of a subtree sums itself.
 */
export const TOTALS_FROM_MONTHLY = `SELECT rule_id, month, count(DISTINCT user_name) AS users,
  count(DISTINCT client_id) AS computers, sum(runs) AS runs, sum(run_ms) AS run_ms,
  count(DISTINCT CASE WHEN remote_runs > 0 OR remote_run_ms > 0 THEN user_name END)
    AS remote_users,
  count(DISTINCT CASE WHEN remote_runs > 0 OR remote_run_ms > 0 THEN client_id END)
    AS remote_computers,
  sum(remote_runs) AS remote_runs, sum(remote_run_ms) AS remote_run_ms FROM monthly_usage`;
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

/** After a rebuild of the monthly rows: every rule's totals at once. */
export const allTotalsStatements: InStatement[] = [
  "DELETE FROM monthly_totals",
  `INSERT INTO monthly_totals (${TOTALS_COLUMNS}) ${TOTALS_FROM_MONTHLY} GROUP BY rule_id, month`,
].map((sql) => ({ sql, args: [] }));
