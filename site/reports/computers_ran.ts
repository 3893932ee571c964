/**
 * The `computers-ran` report: the computers that ran a rule's program in a
 * month, with their run count, run time and last use, from `monthly_usage`
 * (its primary key starts with rule and month) summed over the computer's
 * users. Ordered by host name.
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
  clientId: z.string(),
  hostName: z.string(),
  runs: z.number(),
  runHours: z.number(),
  lastUse: z.string(),
});

export const computersRanReport: Report<typeof query, typeof row> = {
  name: "computers-ran",
  summary: "computers that ran the program that month, with run count, run time and last use",
  query,
  row,
  freshness: "summaries",
  async run(site, { rule, month, site: subtree }, now) {
    const scope = await scopeOf(site, subtree);
    const clients = clientsIn(scope);
    const { ruleName } = await requireRule(site, rule);
    checkMonth(site, month, now);
    // `+client_id`: group after a range of the primary key (rule, month)
    // rather than walk the rule's every month through the last-use index.
    const found = await jsonRows(
      site,
      ["client_id", "host_name", "runs", "run_ms", "last_use_ms"],
      `SELECT m.*, coalesce(c.host_name, d.host_name) AS host_name FROM (
        SELECT client_id, sum(runs) AS runs, sum(run_ms) AS run_ms, max(last_use_ms) AS last_use_ms
        FROM monthly_usage WHERE rule_id = ? AND month = ? AND ${clients.sql} GROUP BY +client_id
      ) m LEFT JOIN clients c ON c.client_id = m.client_id
      LEFT JOIN descendant_clients d ON d.client_id = m.client_id`,
      [rule, month, ...clients.args],
      "host_name, client_id",
    );
    const rows = found.map((r) => ({
      clientId: r.client_id as string,
      hostName: (r.host_name as string | null) ?? "",
      runs: r.runs as number,
      runHours: hours(r.run_ms as number),
      lastUse: iso(r.last_use_ms as number)!,
    }));
    return { parameters: { rule, ruleName, month, ...scopeParameters(scope) }, rows };
  },
};
