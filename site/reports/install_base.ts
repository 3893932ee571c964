/**
 * The `install-base` report: per rule, the computers where its program is
 * installed (from the inventory, matched as `inventory/installed_match.ts`
 * says) and how many of those used it in the last `days` days (their last
 * use in `monthly_usage` is within the window), disabled rules included: an
 * automatic rule is disabled until an admin enables it, and this report is
 * how they choose.
 *
 * @module
 */
import { z } from "zod";
import { DAY_MS } from "../../model/doc_id.ts";
import { installedSql } from "../inventory/installed_match.ts";
import type { Client } from "../../store/db.ts";
import { iso } from "./figures.ts";
import { daysParam, formatParam } from "./report_params.ts";
import type { Report } from "./report.ts";
import { compareRuleIds } from "./report_rules.ts";
import { checkSince } from "./report_window.ts";

const query = z.object({ days: daysParam, format: formatParam }).strict();

const row = z.object({
  ruleId: z.string(),
  ruleName: z.string(),
  enabled: z.boolean(),
  origin: z.string(),
  installed: z.number(),
  used: z.number(),
  notUsed: z.number(),
});

interface RuleRow {
  id: string;
  name: string;
  enabled: boolean;
  origin: string;
  fileName: string | null;
  originalFileName: string | null;
  sha256: string | null;
  version: string;
}

export const installBaseReport: Report<typeof query, typeof row> = {
  name: "install-base",
  summary: "per rule: computers where the program is installed, and how many used it in `days`",
  query,
  row,
  freshness: "summaries",
  async run({ db, settings }, { days = 90 }, now) {
    const since = checkSince(settings, now - days * DAY_MS, now);
    const rules = await allRules(db);
    const rows = [];
    for (const rule of rules) {
      const counts = await installedAndUsed(db, rule, since);
      rows.push({
        ruleId: rule.id,
        ruleName: rule.name,
        enabled: rule.enabled,
        origin: rule.origin,
        installed: counts.installed,
        used: counts.used,
        notUsed: counts.installed - counts.used,
      });
    }
    return { parameters: { days, since: iso(since) }, rows };
  },
};

/**
 * One statement per rule: the computers that used it in the window are
 * collected once (a range of `monthly_usage`'s key, rule then month) into a
 * small table SQLite indexes by itself, and the installed computers (a range
 * of `software_files_by_name`, already in client order) are counted and
 * looked up in it.
 */
async function installedAndUsed(db: Client, rule: RuleRow, since: number) {
  const installed = installedSql(rule);
  if (!installed) return { installed: 0, used: 0 };
  const result = await db.execute({
    sql: `WITH used AS MATERIALIZED (
        SELECT DISTINCT client_id FROM monthly_usage
        WHERE rule_id = ? AND month >= ? AND last_use_ms >= ?
      )
      SELECT count(*) AS installed, count(u.client_id) AS used
      FROM (${installed.sql}) i
      LEFT JOIN used u ON u.client_id = i.client_id`,
    args: [rule.id, new Date(since).toISOString().slice(0, 7), since, ...installed.args],
  });
  return { installed: Number(result.rows[0].installed), used: Number(result.rows[0].used) };
}

export async function allRules(db: Client): Promise<RuleRow[]> {
  const result = await db.execute(
    `SELECT id, name, enabled, origin, file_name, original_file_name, sha256, version FROM rules`,
  );
  return result.rows.map((r) => ({
    id: r.id as string,
    name: r.name as string,
    enabled: r.enabled === 1,
    origin: r.origin as string,
    fileName: r.file_name as string | null,
    originalFileName: r.original_file_name as string | null,
    sha256: r.sha256 as string | null,
    version: r.version as string,
  })).sort((a, b) => compareRuleIds(a.id, b.id));
}
