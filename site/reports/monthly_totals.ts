/**
 * Reading `monthly_totals`, the one row per rule and month that the
 * total-usage and remote-usage reports (and their trends) show: all rules
 * of a month (a scan of a table of rules × months rows), or one rule's
 * months (a range of its primary key). For a subtree (`site=`), the same
 * figures are summed from the subtree's clients' `monthly_usage` rows.
 *
 * @module
 */
import type { Client } from "../../store/db.ts";
import { TOTALS_FROM_MONTHLY } from "../summaries/summary_statements.ts";
import { clientsIn, type Scope } from "./report_scope.ts";

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
export async function totalsOfMonth(db: Client, month: string, scope?: Scope) {
  const clients = scope && clientsIn(scope);
  const result = await db.execute(
    scope?.code === undefined
      ? { sql: "SELECT * FROM monthly_totals WHERE month = ?", args: [month] }
      : {
        sql: `${TOTALS_FROM_MONTHLY} WHERE month = ? AND ${clients!.sql} GROUP BY rule_id, month`,
        args: [month, ...clients!.args],
      },
  );
  return new Map(result.rows.map((row) => [row.rule_id as string, totals(row)]));
}

/** One rule's totals in the months `first` to `last`, by month. */
export async function totalsOfRule(
  db: Client,
  rule: string,
  first: string,
  last: string,
  scope?: Scope,
) {
  const clients = scope && clientsIn(scope);
  const result = await db.execute(
    scope?.code === undefined
      ? {
        sql: "SELECT * FROM monthly_totals WHERE rule_id = ? AND month BETWEEN ? AND ?",
        args: [rule, first, last],
      }
      : {
        sql: `${TOTALS_FROM_MONTHLY} WHERE rule_id = ? AND month BETWEEN ? AND ? AND ${
          clients!.sql
        } GROUP BY rule_id, month`,
        args: [rule, first, last, ...clients!.args],
      },
  );
  return new Map(result.rows.map((row) => [row.month as string, totals(row)]));
}
