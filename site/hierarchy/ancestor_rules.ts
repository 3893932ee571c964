/**
 * An ancestor's rules document into this site's `rules` table: the rules
 * marked `applyToChildSites` apply here (the others only at their own site),
 * so reports and the rules API show them, with their origin site, beside this
 * site's own. Each sync that changes the document rewrites that site's rows,
 * and rows of sites no longer among the ancestors go.
 *
 * @module
 */
import type * as A from "@automerge/automerge";
import type { InStatement } from "../../store/db.ts";
import { log } from "../../lib/log.ts";
import { decodeRule } from "../../model/rule_record.ts";
import { upsert } from "../rules/rules_materializer.ts";

export function ancestorRulesStatements(siteCode: string, doc: A.Doc<unknown>): InStatement[] {
  const statements: InStatement[] = [
    { sql: "DELETE FROM rules WHERE site_code = ?", args: [siteCode] },
  ];
  for (const [key, value] of Object.entries(doc as Record<string, unknown>)) {
    try {
      const rule = decodeRule(key, value);
      if (rule.applyToChildSites && rule.siteCode === siteCode) statements.push(upsert(rule));
    } catch (error) {
      log.warn("skipping an ancestor's rule that does not decode", { siteCode, key, error });
    }
  }
  return statements;
}

/** Forgets the rules of sites that are neither this one nor an ancestor. */
export function strangerRulesStatement(ownCode: string, ancestors: readonly string[]): InStatement {
  const codes = [ownCode, ...ancestors];
  return {
    sql: `DELETE FROM rules WHERE site_code NOT IN (${codes.map(() => "?").join(", ")})`,
    args: codes,
  };
}
