/**
 * The `total-usage` report: per rule, how many distinct users and computers
 * ran it in a month, how many runs started and how many hours it ran, from
 * `monthly_totals`. Every rule that applies here has a row (zero when
 * unused); a deleted rule's usage is listed with no name.
 *
 * @module
 */
import { monthTotalsReport } from "./totals_reports.ts";

/** All usage, remote or not; `total-usage-trend` shows the same. */
export const usageColumns = {
  users: "users",
  computers: "computers",
  runs: "runs",
  runHours: "runMs",
} as const;

export const totalUsageReport = monthTotalsReport({
  name: "total-usage",
  summary: "per rule: distinct users, distinct computers, runs and total hours that month",
  columns: usageColumns,
});
