/**
 * The `rules` report: every rule that applies at this site (its own and
 * those its ancestors apply to child sites), with the site it comes from
 * and whether it is enabled. Read live from the `rules` table (the columns
 * `ruleFromRow` reads, mapped here so that `meter report` can load this
 * module without the site's storage code).
 *
 * @module
 */
import { z } from "zod";
import { formatParam } from "./report_params.ts";
import type { Report } from "./report.ts";
import { compareRuleIds } from "./report_rules.ts";

const query = z.object({ format: formatParam }).strict();

const row = z.object({
  id: z.string(),
  name: z.string(),
  siteCode: z.string(),
  enabled: z.boolean(),
  applyToChildSites: z.boolean(),
  origin: z.enum(["manual", "auto"]),
  fileName: z.string().nullable(),
  originalFileName: z.string().nullable(),
  sha256: z.string().nullable(),
  version: z.string(),
  language: z.string().nullable(),
});

export const rulesReport: Report<typeof query, typeof row> = {
  name: "rules",
  summary: "every rule that applies at this site, with its origin site and whether it is enabled",
  query,
  row,
  freshness: "live",
  async run({ db }) {
    const result = await db.execute("SELECT * FROM rules");
    const rows = result.rows.map((r) => ({
      id: r.id as string,
      name: r.name as string,
      siteCode: r.site_code as string,
      enabled: r.enabled === 1,
      applyToChildSites: r.apply_to_child_sites === 1,
      origin: r.origin as "manual" | "auto",
      fileName: r.file_name as string | null,
      originalFileName: r.original_file_name as string | null,
      sha256: r.sha256 as string | null,
      version: r.version as string,
      language: r.language as string | null,
    }));
    return { parameters: {}, rows: rows.sort((a, b) => compareRuleIds(a.id, b.id)) };
  },
};
