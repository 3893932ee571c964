/**
 * Rules documents into the `rules` table, the query side that the rules API
 * and reports read. The site's own rules and (later) its ancestors' rules
 * pass through here alike.
 *
 * @module
 */
import type * as A from "@automerge/automerge";
import type { ChangedKeys } from "../../store/changed_keys.ts";
import type { InStatement } from "../../store/db.ts";
import { type Rule } from "../../model/rule.ts";
import { decodeRule } from "../../model/rule_record.ts";

export function rulesStatements(doc: A.Doc<unknown>, { put, deleted }: ChangedKeys): InStatement[] {
  const records = doc as Record<string, unknown>;
  const statements: InStatement[] = [...put].map((key) => upsert(decodeRule(key, records[key])));
  for (const key of deleted) {
    statements.push({ sql: "DELETE FROM rules WHERE id = ?", args: [key] });
  }
  return statements;
}

/** The `rules` row of a rule, inserted or brought up to date. */
export function upsert(rule: Rule): InStatement {
  return {
    sql: `INSERT INTO rules (id, name, file_name, original_file_name, sha256, version, language,
        site_code, apply_to_child_sites, enabled, comment, origin, created_at, updated_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (id) DO UPDATE SET name = excluded.name, file_name = excluded.file_name,
        original_file_name = excluded.original_file_name, sha256 = excluded.sha256,
        version = excluded.version, language = excluded.language, site_code = excluded.site_code,
        apply_to_child_sites = excluded.apply_to_child_sites, enabled = excluded.enabled,
        comment = excluded.comment, origin = excluded.origin, updated_at = excluded.updated_at`,
    args: [
      rule.id,
      rule.name,
      rule.fileName,
      rule.originalFileName,
      rule.sha256,
      rule.version,
      rule.language,
      rule.siteCode,
      rule.applyToChildSites ? 1 : 0,
      rule.enabled ? 1 : 0,
      rule.comment,
      rule.origin,
      rule.createdAt,
      rule.updatedAt,
    ],
  };
}

/** A `rules` row back into a rule. */
export function ruleFromRow(row: Record<string, unknown>): Rule {
  return {
    id: row.id as string,
    name: row.name as string,
    fileName: row.file_name as string | null,
    originalFileName: row.original_file_name as string | null,
    sha256: row.sha256 as string | null,
    version: row.version as string,
    language: row.language as string | null,
    siteCode: row.site_code as string,
    applyToChildSites: row.apply_to_child_sites === 1,
    enabled: row.enabled === 1,
    comment: row.comment as string,
    origin: row.origin as Rule["origin"],
    createdAt: row.created_at as number,
    updatedAt: row.updated_at as number,
  };
}
