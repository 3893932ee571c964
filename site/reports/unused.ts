/**
 * The `unused` report: the computers that ran a rule's program before
 * `since` but not at or after it (their last use is before `since`), with
 * that last use, oldest first. From `monthly_usage` through its index
 * `monthly_usage_last_use` (rule, client, last use), which answers each
 * computer's last use without reading the table. Until inventory exists,
 * computers that have it installed but never ran it are not listed.
 *
 * @module
 */
import { z } from "zod";
import { iso } from "./figures.ts";
import { jsonRows } from "./json_rows.ts";
import { formatParam, ruleParam, sinceParam } from "./report_params.ts";
import type { Report } from "./report.ts";
import { requireRule } from "./report_rules.ts";
import { checkSince } from "./report_window.ts";

const query = z.object({ rule: ruleParam, since: sinceParam, format: formatParam }).strict();

const row = z.object({ clientId: z.string(), hostName: z.string(), lastUse: z.string() });

export const unusedReport: Report<typeof query, typeof row> = {
  name: "unused",
  summary: "computers that ran the program before `since` but not at or after it, with last use",
  query,
  row,
  freshness: "summaries",
  async run(site, { rule, since }, now) {
    const { ruleName } = await requireRule(site, rule);
    checkSince(site, since, now);
    const found = await jsonRows(
      site,
      ["client_id", "host_name", "last_use_ms"],
      `SELECT m.*, c.host_name FROM (
        SELECT client_id, max(last_use_ms) AS last_use_ms FROM monthly_usage
        WHERE rule_id = ? GROUP BY client_id HAVING max(last_use_ms) < ?
      ) m LEFT JOIN clients c ON c.client_id = m.client_id`,
      [rule, since],
      "last_use_ms, client_id",
    );
    const rows = found.map((r) => ({
      clientId: r.client_id as string,
      hostName: (r.host_name as string | null) ?? "",
      lastUse: iso(r.last_use_ms as number)!,
    }));
    return { parameters: { rule, ruleName, since: iso(since) }, rows };
  },
};
