/**
 * The `concurrent-trend` report: one rule's exact peak of concurrent users
 * (and sessions) in each of the last N months (default 12) ending with the
 * current UTC month, with the first instant each was reached; a month with
 * no usage has a peak of zero and no instant.
 *
 * @module
 */
import { z } from "zod";
import { addMonths, monthStart } from "./months.ts";
import { peakFields, peaksOf, shownPeaks, sitePeakSums } from "./peak_hours.ts";
import { formatParam, monthsParam, ruleParam } from "./report_params.ts";
import type { Report } from "./report.ts";
import { scopeOf, siteParam } from "./report_scope.ts";
import { requireRule } from "./report_rules.ts";
import { trendMonths, trendParameters } from "./report_window.ts";

const query = z.object({
  rule: ruleParam,
  months: monthsParam,
  site: siteParam,
  format: formatParam,
}).strict();

const row = z.object({ month: z.string(), ...peakFields });

export const concurrentTrendReport: Report<typeof query, typeof row> = {
  name: "concurrent-trend",
  summary: "one rule's peak concurrent users (and sessions) per month, for the last N months",
  query,
  row,
  freshness: "summaries",
  async run(site, { rule, months, site: subtree }, now) {
    const scope = await scopeOf(site, subtree);
    const { ruleName } = await requireRule(site, rule);
    const window = trendMonths(site, months, now);
    const stretches = window.list.map((month) => ({
      key: month,
      ruleId: rule,
      from: monthStart(month),
      to: monthStart(addMonths(month, 1)),
    }));
    const peaks = await peaksOf(site, stretches, scope);
    const sums = await sitePeakSums(site, stretches, peaks, scope);
    const rows = window.list.map((month) => ({
      month,
      ...shownPeaks(peaks.get(month), sums.get(month)),
    }));
    return { parameters: trendParameters(rule, ruleName, window, scope), rows };
  },
};
