/**
 * The SQL that stores recomputed summary buckets. Rows of a bucket are
 * replaced as a whole (delete, then insert), so a bucket that lost its last
 * session loses its rows. Many rows travel as one JSON parameter spread by
 * `json_each`: one short statement instead of thousands of parameters.
 *
 * Monthly rows and monthly totals are aggregated in SQL from the tables
 * below them, in the same transaction, after those; after a rebuild, the
 * local-hour tables are too (`local_user_hours.ts` keeps them up to date
 * between rebuilds).
 *
 * @module
 */
import type { InStatement } from "../../store/db.ts";
import type { ClientDayFigures } from "./client_day_figures.ts";
import type { HourFigures } from "./hour_figures.ts";
import { inOwnClients } from "../clients/clients_table.ts";

/** Rows per bulk statement: keeps each JSON parameter to a few megabytes. */
const ROWS_PER_STATEMENT = 20_000;

/** `SELECT` of the rows of the JSON array parameter, one column per field. */
const fromJsonRows = (columns: string[]) =>
  `SELECT ${columns.map((_, i) => `value ->> ${i}`).join(", ")} FROM json_each(?)`;

/** `sql` once per {@linkcode ROWS_PER_STATEMENT} rows, given as its JSON array parameter. */
function perRows(sql: string, rows: unknown[][]): InStatement[] {
  const statements: InStatement[] = [];
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
    statements.push({ sql, args: [JSON.stringify(rows.slice(i, i + ROWS_PER_STATEMENT))] });
  }
  return statements;
}

function bulkInsert(table: string, columns: string[], rows: unknown[][]): InStatement[] {
  return perRows(`INSERT INTO ${table} (${columns.join(", ")}) ${fromJsonRows(columns)}`, rows);
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

/** Replaces the daily cells of some computers for one UTC day. */
export function clientDaysStatements(
  day: string,
  clients: { clientId: string; figures: ClientDayFigures }[],
): InStatement[] {
  const ids = JSON.stringify(clients.map((c) => c.clientId));
  const ofClients = "client_id IN (SELECT value FROM json_each(?))";
  return [
    { sql: `DELETE FROM daily_usage WHERE day = ? AND ${ofClients}`, args: [day, ids] },
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
    ),
  ];
}

const MONTHLY_FROM_DAILY = `SELECT rule_id, substr(day, 1, 7), user_name, client_id, sum(runs),
  sum(run_ms), max(last_use_ms), sum(remote_runs), sum(remote_run_ms) FROM daily_usage`;
const MONTHLY_COLUMNS = "rule_id, month, user_name, client_id, runs, run_ms, last_use_ms, " +
  "remote_runs, remote_run_ms";

/** Re-adds some computers' monthly rows of a month from their daily cells. */
export function clientMonthsStatements(month: string, clientIds: string[]): InStatement[] {
  const ids = JSON.stringify(clientIds);
  const ofClients = "client_id IN (SELECT value FROM json_each(?))";
  return [
    { sql: `DELETE FROM monthly_usage WHERE month = ? AND ${ofClients}`, args: [month, ids] },
    {
      sql: `INSERT INTO monthly_usage (${MONTHLY_COLUMNS}) ${MONTHLY_FROM_DAILY}
        WHERE day >= ? AND day < ? AND ${ofClients} GROUP BY rule_id, user_name, client_id`,
      args: [`${month}-01`, `${month}-32`, ids],
    },
  ];
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

const HOURS = Array.from({ length: 24 }, (_, h) => h);

/**
 * Every user's hours per rule, local date and zone, from this site's own
 * computers' days: each day's mask spread over the three local dates it may
 * hold (`local_hours_mask.ts`), then OR-ed, an hour at a time, since SQLite
 * has no bitwise aggregate.
 */
const USER_HOURS_FROM_DAILY = `WITH spread AS (
    SELECT rule_id, date(day, k.value || ' days') AS local_date, time_zone, user_name,
      (local_hours >> (24 * k.value + 12)) & ${0xffffff} AS hours
    FROM daily_usage, json_each('[-1,0,1]') k
    WHERE local_hours != 0 AND ${inOwnClients("client_id")})
  SELECT rule_id, local_date, time_zone, user_name,
    ${HOURS.map((h) => `max(hours & ${2 ** h})`).join(" | ")}
  FROM spread WHERE hours != 0 GROUP BY rule_id, local_date, time_zone, user_name`;

/** After a rebuild of the tables below them: every monthly row, total and cell at once. */
export const aggregateAllStatements: InStatement[] = [
  "DELETE FROM monthly_usage",
  `INSERT INTO monthly_usage (${MONTHLY_COLUMNS}) ${MONTHLY_FROM_DAILY}
    GROUP BY rule_id, substr(day, 1, 7), user_name, client_id`,
  "DELETE FROM monthly_totals",
  `INSERT INTO monthly_totals (${TOTALS_COLUMNS}) ${TOTALS_FROM_MONTHLY} GROUP BY rule_id, month`,
  "DELETE FROM local_user_hours",
  `INSERT INTO local_user_hours (rule_id, local_date, time_zone, user_name, hours)
    ${USER_HOURS_FROM_DAILY}`,
  "DELETE FROM local_hour_users",
  `INSERT INTO local_hour_users (rule_id, local_date, local_hour, weekday, users, time_zone)
    SELECT rule_id, local_date, h.value, CAST(strftime('%u', local_date) AS INTEGER), count(*),
      time_zone FROM local_user_hours, json_each('${JSON.stringify(HOURS)}') h
    WHERE (hours >> h.value) & 1 GROUP BY rule_id, local_date, h.value, time_zone`,
].map((sql) => ({ sql, args: [] }));
