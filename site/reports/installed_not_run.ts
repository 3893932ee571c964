/**
 * The `installed-not-run` report: the computers where a rule's program is
 * installed but that have not used it since `since`, never included (their
 * `lastUse` is empty), never-used first, then oldest use first: the
 * licences to take back.
 *
 * @module
 */
import { z } from "zod";
import { installedSql } from "../inventory/installed_match.ts";
import { iso } from "./figures.ts";
import { jsonRows } from "./json_rows.ts";
import { formatParam, ruleParam, sinceParam } from "./report_params.ts";
import type { Report } from "./report.ts";
import { requireRule } from "./report_rules.ts";
import { checkSince } from "./report_window.ts";
import { allRules } from "./install_base.ts";

const query = z.object({ rule: ruleParam, since: sinceParam, format: formatParam }).strict();

const row = z.object({
  clientId: z.string(),
  hostName: z.string(),
  lastUse: z.string().nullable(),
});

export const installedNotRunReport: Report<typeof query, typeof row> = {
  name: "installed-not-run",
  summary: "computers that have the program installed but have not run it since `since`",
  query,
  row,
  freshness: "summaries",
  async run({ db, settings }, { rule, since }, now) {
    const { ruleName } = await requireRule(db, rule);
    checkSince(settings, since, now);
    const fields = (await allRules(db)).find((r) => r.id === rule)!;
    const installed = installedSql(fields);
    const found = installed
      ? await jsonRows(
        db,
        ["client_id", "host_name", "last_use_ms"],
        // MATERIALIZED: each computer's last use is worked out once, not per use of it.
        `WITH u AS MATERIALIZED (
          SELECT i.client_id, (
            SELECT max(last_use_ms) FROM monthly_usage m
            WHERE m.rule_id = ? AND m.client_id = i.client_id
          ) AS last_use_ms
          FROM (${installed.sql}) i
        )
        SELECT u.client_id, c.host_name, u.last_use_ms FROM u
        LEFT JOIN clients c ON c.client_id = u.client_id
        WHERE u.last_use_ms IS NULL OR u.last_use_ms < ?`,
        [rule, ...installed.args, since],
        "last_use_ms IS NOT NULL, last_use_ms, host_name, client_id",
      )
      : [];
    const rows = found.map((r) => ({
      clientId: r.client_id as string,
      hostName: (r.host_name as string | null) ?? "",
      lastUse: iso(r.last_use_ms as number | null),
    }));
    return { parameters: { rule, ruleName, since: iso(since) }, rows };
  },
};
