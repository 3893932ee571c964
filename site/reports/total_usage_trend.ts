/**
 * The `total-usage-trend` report: one rule's `total-usage` figures for each
 * of the last N months (default 12) ending with the current UTC month,
 * oldest first; a month with no usage is a row of zeros.
 *
 * @module
 */
import { usageColumns } from "./total_usage.ts";
import { totalsTrendReport } from "./totals_reports.ts";

export const totalUsageTrendReport = totalsTrendReport({
  name: "total-usage-trend",
  summary: "one rule's distinct users, computers, runs and hours per month, for the last N months",
  columns: usageColumns,
});
