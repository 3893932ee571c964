/**
 * The `unused` report: the computers that ran a rule's program before
 * `since` but not at or after it (their last use is before `since`), with
 * that last use, oldest first. From `monthly_usage` through its index
 * `monthly_usage_last_use` (rule, client, last use), which answers each
 * computer's last use without reading the table. Computers that have it
 * installed (by their inventory) but never ran it are listed too, first,
 * with no last use; `installed-not-run` gives the installed ones only.
 *
 * @module
 */
import { z } from "zod";
import { iso } from "./figures.ts";
import { jsonRows } from "./json_rows.ts";
import { formatParam, ruleParam, sinceParam } from "./report_params.ts";
import type { Report } from "./report.ts";
import { clientsIn, scopeOf, scopeParameters, siteParam } from "./report_scope.ts";
import { requireRule } from "./report_rules.ts";
import { checkSince } from "./report_window.ts";
import { installedSql } from "../inventory/installed_match.ts";
import { allRules } from "./install_base.ts";

const query = z.object({
  rule: ruleParam,
  since: sinceParam,
  site: siteParam,
  format: formatParam,
}).strict();

const row = z.object({
  clientId: z.string(),
  hostName: z.string(),
  lastUse: z.string().nullable(),
});

export const unusedReport: Report<typeof query, typeof row> = {
  name: "unused",
  summary:
    "computers that ran the program before `since` but not since, or have it installed and never ran it",
  query,
  row,
  freshness: "summaries",
  async run(sources, { rule, since, site: subtree }, now) {
    const { db } = sources;
    const { ruleName } = await requireRule(db, rule);
    checkSince(sources.settings, since, now);
    const scope = await scopeOf(sources, subtree);
    const clients = clientsIn(scope);
    // Inventory stays at its site: installed-never-run is known for this site's clients only.
    const installed = scope.code === undefined
      ? installedSql((await allRules(db)).find((r) => r.id === rule)!)
      : undefined;
    const neverRan = installed
      ? `UNION ALL SELECT i.client_id, NULL FROM (${installed.sql}) i
        WHERE NOT EXISTS (SELECT 1 FROM monthly_usage u WHERE u.rule_id = ? AND u.client_id = i.client_id)`
      : "";
    const found = await jsonRows(
      db,
      ["client_id", "host_name", "last_use_ms"],
      `SELECT m.*, coalesce(c.host_name, d.host_name) AS host_name FROM (
        SELECT client_id, max(last_use_ms) AS last_use_ms FROM monthly_usage
        WHERE rule_id = ? AND ${clients.sql} GROUP BY client_id HAVING max(last_use_ms) < ?
        ${neverRan}
      ) m LEFT JOIN clients c ON c.client_id = m.client_id
      LEFT JOIN descendant_clients d ON d.client_id = m.client_id`,
      [rule, ...clients.args, since, ...(installed ? [...installed.args, rule] : [])],
      "last_use_ms IS NOT NULL, last_use_ms, client_id",
    );
    const rows = found.map((r) => ({
      clientId: r.client_id as string,
      hostName: (r.host_name as string | null) ?? "",
      lastUse: iso(r.last_use_ms as number | null),
    }));
    return { parameters: { rule, ruleName, since: iso(since), ...scopeParameters(scope) }, rows };
  },
};
