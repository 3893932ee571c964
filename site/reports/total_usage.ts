/**
 * The `total-usage` report: per rule, how many distinct users and computers
 * ran it in a month, how many runs started and how many hours it ran, from
 * `monthly_totals`. Every rule that applies here has a row (zero when
 * unused); a deleted rule's usage is listed with no name.
 *
 * @module
 */
import { z } from "zod";
import { hours } from "./figures.ts";
import { totalsOfMonth } from "./monthly_totals.ts";
import { formatParam, monthParam } from "./report_params.ts";
import type { Report } from "./report.ts";
import { scopeOf, scopeParameters, siteParam } from "./report_scope.ts";
import { rulesAnd } from "./report_rules.ts";
import { checkMonth } from "./report_window.ts";

const query = z.object({ month: monthParam, site: siteParam, format: formatParam }).strict();

const row = z.object({
  ruleId: z.string(),
  ruleName: z.string().nullable(),
  users: z.number(),
  computers: z.number(),
  runs: z.number(),
  runHours: z.number(),
});

export const totalUsageReport: Report<typeof query, typeof row> = {
  name: "total-usage",
  summary: "per rule: distinct users, distinct computers, runs and total hours that month",
  query,
  row,
  freshness: "summaries",
  async run(site, { month, site: subtree }, now) {
    const scope = await scopeOf(site, subtree);
    checkMonth(site, month, now);
    const byRule = await totalsOfMonth(site, month, scope);
    const rows = (await rulesAnd(site, byRule.keys())).map(({ ruleId, ruleName }) => {
      const totals = byRule.get(ruleId);
      return {
        ruleId,
        ruleName,
        users: totals?.users ?? 0,
        computers: totals?.computers ?? 0,
        runs: totals?.runs ?? 0,
        runHours: hours(totals?.runMs),
      };
    });
    return { parameters: { month, ...scopeParameters(scope) }, rows };
  },
};
