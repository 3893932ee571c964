/**
 * The `remote-usage` report (Configuration Manager's terminal-server
 * report): per rule, the usage in a month from sessions started in remote
 * login sessions: distinct remote users and computers, remote runs and
 * hours, from `monthly_totals`. Every rule that applies here has a row.
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
  remoteUsers: z.number(),
  remoteComputers: z.number(),
  remoteRuns: z.number(),
  remoteHours: z.number(),
});

export const remoteUsageReport: Report<typeof query, typeof row> = {
  name: "remote-usage",
  summary: "per rule: usage from remote login sessions that month (users, computers, runs, hours)",
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
        remoteUsers: totals?.remoteUsers ?? 0,
        remoteComputers: totals?.remoteComputers ?? 0,
        remoteRuns: totals?.remoteRuns ?? 0,
        remoteHours: hours(totals?.remoteRunMs),
      };
    });
    return { parameters: { month, ...scopeParameters(scope) }, rows };
  },
};
