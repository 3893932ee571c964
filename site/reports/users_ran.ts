/**
 * The `users-ran` report: the users who ran a rule's program in a month,
 * with how many computers they ran it on, run count, run time and last use,
 * from `monthly_usage` (one row per rule, month, user and computer, in that
 * key order, so the grouping follows the primary key).
 *
 * @module
 */
import { z } from "zod";
import { hours, iso } from "./figures.ts";
import { jsonRows } from "./json_rows.ts";
import { formatParam, monthParam, ruleParam } from "./report_params.ts";
import type { Report } from "./report.ts";
import { clientsIn, scopeOf, scopeParameters, siteParam } from "./report_scope.ts";
import { requireRule } from "./report_rules.ts";
import { checkMonth } from "./report_window.ts";

const query = z.object({
  rule: ruleParam,
  month: monthParam,
  site: siteParam,
  format: formatParam,
}).strict();

const row = z.object({
  user: z.string(),
  computers: z.number(),
  runs: z.number(),
  runHours: z.number(),
  lastUse: z.string(),
});

export const usersRanReport: Report<typeof query, typeof row> = {
  name: "users-ran",
  summary: "users who ran the program that month, with computer count, run count, run time, " +
    "last use",
  query,
  row,
  freshness: "summaries",
  async run(site, { rule, month, site: subtree }, now) {
    const scope = await scopeOf(site, subtree);
    const clients = clientsIn(scope);
    const { ruleName } = await requireRule(site, rule);
    checkMonth(site, month, now);
    const found = await jsonRows(
      site,
      ["user_name", "computers", "runs", "run_ms", "last_use_ms"],
      `SELECT user_name, count(*) AS computers, sum(runs) AS runs, sum(run_ms) AS run_ms,
        max(last_use_ms) AS last_use_ms
      FROM monthly_usage WHERE rule_id = ? AND month = ? AND ${clients.sql} GROUP BY user_name`,
      [rule, month, ...clients.args],
      "user_name",
    );
    const rows = found.map((r) => ({
      user: r.user_name as string,
      computers: r.computers as number,
      runs: r.runs as number,
      runHours: hours(r.run_ms as number),
      lastUse: iso(r.last_use_ms as number)!,
    }));
    return { parameters: { rule, ruleName, month, ...scopeParameters(scope) }, rows };
  },
};
