/**
 * The `remote-usage-trend` report: one rule's `remote-usage` figures for
 * each of the last N months (default 12) ending with the current UTC month,
 * oldest first; a month with no remote usage is a row of zeros.
 *
 * @module
 */
import { remoteColumns } from "./remote_usage.ts";
import { totalsTrendReport } from "./totals_reports.ts";

export const remoteUsageTrendReport = totalsTrendReport({
  name: "remote-usage-trend",
  summary: "one rule's usage from remote login sessions per month, for the last N months",
  columns: remoteColumns,
});
