/**
 * Reading `monthly_totals`, the one row per rule and month that the
 * total-usage and remote-usage reports (and their trends) show: all rules
 * of a month (a scan of a table of rules × months rows), or one rule's
 * months (a range of its primary key). For a subtree (`site=`), the same
 * figures are summed from the subtree's clients' `monthly_usage` rows.
 *
 * @module
 */
import type { SiteContext } from "../site_context.ts";
import { clientsIn, type Scope } from "./report_scope.ts";

/** The totals of `monthly_usage` rows, as `monthly_totals` holds them. */
const TOTALS_OF_ROWS = `SELECT rule_id, month, count(DISTINCT user_name) AS users,
  count(DISTINCT client_id) AS computers, sum(runs) AS runs, sum(run_ms) AS run_ms,
  count(DISTINCT CASE WHEN remote_runs > 0 OR remote_run_ms > 0 THEN user_name END)
    AS remote_users,
  count(DISTINCT CASE WHEN remote_runs > 0 OR remote_run_ms > 0 THEN client_id END)
    AS remote_computers,
  sum(remote_runs) AS remote_runs, sum(remote_run_ms) AS remote_run_ms FROM monthly_usage`;

export interface MonthlyTotals {
  users: number;
  computers: number;
  runs: number;
  runMs: number;
  remoteUsers: number;
  remoteComputers: number;
  remoteRuns: number;
  remoteRunMs: number;
}

export const NO_USAGE: MonthlyTotals = {
  users: 0,
  computers: 0,
  runs: 0,
  runMs: 0,
  remoteUsers: 0,
  remoteComputers: 0,
  remoteRuns: 0,
  remoteRunMs: 0,
};

function totals(row: Record<string, unknown>): MonthlyTotals {
  return {
    users: row.users as number,
    computers: row.computers as number,
    runs: row.runs as number,
    runMs: row.run_ms as number,
    remoteUsers: row.remote_users as number,
    remoteComputers: row.remote_computers as number,
    remoteRuns: row.remote_runs as number,
    remoteRunMs: row.remote_run_ms as number,
  };
}

/** Every rule's totals in `month`, by rule id. */
export async function totalsOfMonth(site: SiteContext, month: string, scope?: Scope) {
  const clients = scope && clientsIn(scope);
  const result = await site.db.execute(
    scope?.code === undefined
      ? { sql: "SELECT * FROM monthly_totals WHERE month = ?", args: [month] }
      : {
        sql: `${TOTALS_OF_ROWS} WHERE month = ? AND ${clients!.sql} GROUP BY rule_id, month`,
        args: [month, ...clients!.args],
      },
  );
  return new Map(result.rows.map((row) => [row.rule_id as string, totals(row)]));
}

/** One rule's totals in the months `first` to `last`, by month. */
export async function totalsOfRule(
  site: SiteContext,
  rule: string,
  first: string,
  last: string,
  scope?: Scope,
) {
  const clients = scope && clientsIn(scope);
  const result = await site.db.execute(
    scope?.code === undefined
      ? {
        sql: "SELECT * FROM monthly_totals WHERE rule_id = ? AND month BETWEEN ? AND ?",
        args: [rule, first, last],
      }
      : {
        sql: `${TOTALS_OF_ROWS} WHERE rule_id = ? AND month BETWEEN ? AND ? AND ${
          clients!.sql
        } GROUP BY rule_id, month`,
        args: [rule, first, last, ...clients!.args],
      },
  );
  return new Map(result.rows.map((row) => [row.month as string, totals(row)]));
}
