/**
 * Every report the site answers at `GET /v1/reports/<name>`, in the order
 * `meter report --help` and the OpenAPI document list them. Loading this
 * needs no database, network or HTTP code, so the command line can use it
 * for its help and checks.
 *
 * @module
 */
import { computersRanReport } from "./computers_ran.ts";
import { concurrentTrendReport } from "./concurrent_trend.ts";
import { concurrentUsageReport } from "./concurrent_usage.ts";
import { installBaseReport } from "./install_base.ts";
import { installedNotRunReport } from "./installed_not_run.ts";
import { licencePositionReport } from "./licence_position.ts";
import { licenceTrendReport } from "./licence_trend.ts";
import { reclaimCandidatesReport } from "./reclaim_candidates.ts";
import { softwareReport } from "./software.ts";
import { remoteUsageReport } from "./remote_usage.ts";
import { remoteUsageTrendReport } from "./remote_usage_trend.ts";
import type { Report } from "./report.ts";
import { rulesReport } from "./rules_report.ts";
import { summarizationProgressReport } from "./summarization_progress.ts";
import { timeOfDayReport } from "./time_of_day.ts";
import { totalUsageReport } from "./total_usage.ts";
import { totalUsageTrendReport } from "./total_usage_trend.ts";
import { unusedReport } from "./unused.ts";
import { usersRanReport } from "./users_ran.ts";

export const REPORTS: readonly Report[] = [
  rulesReport,
  computersRanReport,
  usersRanReport,
  totalUsageReport,
  totalUsageTrendReport,
  concurrentUsageReport,
  concurrentTrendReport,
  timeOfDayReport,
  remoteUsageReport,
  remoteUsageTrendReport,
  unusedReport,
  installBaseReport,
  installedNotRunReport,
  softwareReport,
  licencePositionReport,
  reclaimCandidatesReport,
  licenceTrendReport,
  summarizationProgressReport,
];

export function findReport(name: string): Report | undefined {
  return REPORTS.find((report) => report.name === name);
}
