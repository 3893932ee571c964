/**
 * The `total-usage-trend` report: one rule's `total-usage` figures for each
 * of the last N months (default 12) ending with the current UTC month,
 * oldest first; a month with no usage is a row of zeros.
 *
 * @module
 */
import { z } from "zod";
import { hours } from "./figures.ts";
import { NO_USAGE, totalsOfRule } from "./monthly_totals.ts";
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

const row = z.object({
  month: z.string(),
  users: z.number(),
  computers: z.number(),
  runs: z.number(),
  runHours: z.number(),
});

export const totalUsageTrendReport: Report<typeof query, typeof row> = {
  name: "total-usage-trend",
  summary: "one rule's distinct users, computers, runs and hours per month, for the last N months",
  query,
  row,
  freshness: "summaries",
  async run(site, { rule, months, site: subtree }, now) {
    const scope = await scopeOf(site, subtree);
    const { ruleName } = await requireRule(site, rule);
    const window = trendMonths(site, months, now);
    const byMonth = await totalsOfRule(site, rule, window.firstMonth, window.lastMonth, scope);
    const rows = window.list.map((month) => {
      const totals = byMonth.get(month) ?? NO_USAGE;
      return {
        month,
        users: totals.users,
        computers: totals.computers,
        runs: totals.runs,
        runHours: hours(totals.runMs),
      };
    });
    return { parameters: trendParameters(rule, ruleName, window, scope), rows };
  },
};
