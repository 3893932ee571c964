/**
 * The `concurrent-trend` report: one rule's exact peak of concurrent users
 * (and sessions) in each of the last N months (default 12) ending with the
 * current UTC month, with the first instant each was reached; a month with
 * no usage has a peak of zero and no instant.
 *
 * @module
 */
import { addMonths, monthStart } from "./months.ts";
import { peakFields, peaksOf, shownPeaks, sitePeakSums } from "./peak_hours.ts";
import { trendReport } from "./trend_report.ts";

export const concurrentTrendReport = trendReport({
  name: "concurrent-trend",
  summary: "one rule's peak concurrent users (and sessions) per month, for the last N months",
  figures: peakFields,
  async read(db, rule, window, scope) {
    const stretches = window.list.map((month) => ({
      key: month,
      ruleId: rule,
      from: monthStart(month),
      to: monthStart(addMonths(month, 1)),
    }));
    const peaks = await peaksOf(db, stretches, scope);
    const sums = await sitePeakSums(db, stretches, peaks, scope);
    return window.list.map((month) => shownPeaks(peaks.get(month), sums.get(month)));
  },
});
