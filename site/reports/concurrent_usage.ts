/**
 * The `concurrent-usage` report: per rule, the exact peak of concurrent
 * distinct users in a month and the first instant it was reached, and the
 * same for concurrent sessions (one user with three windows open is one
 * user, three sessions), for this site's own clients; beside it, the sum of
 * the peaks of this site and every site below (`peak_hours.ts`). Every rule
 * that applies here has a row.
 *
 * @module
 */
import { z } from "zod";
import { addMonths, monthStart } from "./months.ts";
import { totalsOfMonth } from "./monthly_totals.ts";
import { peakFields, peaksOf, shownPeaks, sitePeakSums } from "./peak_hours.ts";
import { formatParam, monthParam } from "./report_params.ts";
import type { Report } from "./report.ts";
import { scopeOf, scopeParameters, siteParam } from "./report_scope.ts";
import { rulesAnd } from "./report_rules.ts";
import { checkMonth } from "./report_window.ts";

const query = z.object({ month: monthParam, site: siteParam, format: formatParam }).strict();

const row = z.object({ ruleId: z.string(), ruleName: z.string().nullable(), ...peakFields });

export const concurrentUsageReport: Report<typeof query, typeof row> = {
  name: "concurrent-usage",
  summary: "per rule: the exact peak of concurrent users that month and when, and of sessions",
  query,
  row,
  freshness: "summaries",
  async run(sources, { month, site: subtree }, now) {
    const { db } = sources;
    checkMonth(sources.settings, month, now);
    const scope = await scopeOf(sources, subtree);
    const rules = await rulesAnd(db, (await totalsOfMonth(db, month, scope)).keys());
    const from = monthStart(month);
    const to = monthStart(addMonths(month, 1));
    const stretches = rules.map((r) => ({ key: r.ruleId, ruleId: r.ruleId, from, to }));
    const peaks = await peaksOf(db, stretches, scope);
    const sums = await sitePeakSums(db, stretches, peaks, scope);
    const rows = rules.map(({ ruleId, ruleName }) => ({
      ruleId,
      ruleName,
      ...shownPeaks(peaks.get(ruleId), sums.get(ruleId)),
    }));
    return { parameters: { month, ...scopeParameters(scope) }, rows };
  },
};
