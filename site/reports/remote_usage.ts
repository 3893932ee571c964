/**
 * The `remote-usage` report (Configuration Manager's terminal-server
 * report): per rule, the usage in a month from sessions started in remote
 * login sessions: distinct remote users and computers, remote runs and
 * hours, from `monthly_totals`. Every rule that applies here has a row.
 *
 * @module
 */
import { monthTotalsReport } from "./totals_reports.ts";

/** Usage from remote login sessions only; `remote-usage-trend` shows the same. */
export const remoteColumns = {
  remoteUsers: "remoteUsers",
  remoteComputers: "remoteComputers",
  remoteRuns: "remoteRuns",
  remoteHours: "remoteRunMs",
} as const;

export const remoteUsageReport = monthTotalsReport({
  name: "remote-usage",
  summary: "per rule: usage from remote login sessions that month (users, computers, runs, hours)",
  columns: remoteColumns,
});
