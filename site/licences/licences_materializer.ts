/**
 * Licences documents into the `licences` table (`licences_table.ts`): this
 * site's own document record by record as it changes, an ancestor's whole
 * at each change (its site's rows rewritten), and the rows of sites that are
 * no longer ancestors dropped.
 *
 * @module
 */
import type * as A from "@automerge/automerge";
import type { ChangedKeys } from "../../store/changed_keys.ts";
import type { InStatement } from "../../store/db.ts";
import { log } from "../../lib/log.ts";
import { decodeLicence } from "../../model/licence_record.ts";
import { upsert } from "./licences_table.ts";

/** The rows that follow a change of this site's own licences document. */
export function licencesStatements(doc: A.Doc<unknown>, { put, deleted }: ChangedKeys) {
  const records = doc as Record<string, unknown>;
  const statements: InStatement[] = [...put].map((key) => upsert(decodeLicence(key, records[key])));
  for (const key of deleted) {
    statements.push({ sql: "DELETE FROM licences WHERE id = ?", args: [key] });
  }
  return statements;
}

/**
 * An ancestor's licences document, all of it: that site's rows are
 * rewritten. Every licence of an ancestor is kept, whichever site it
 * covers; positions count those that cover this site.
 */
export function ancestorLicencesStatements(siteCode: string, doc: A.Doc<unknown>): InStatement[] {
  const statements: InStatement[] = [
    { sql: "DELETE FROM licences WHERE site_code = ?", args: [siteCode] },
  ];
  for (const [key, value] of Object.entries(doc as Record<string, unknown>)) {
    try {
      const licence = decodeLicence(key, value);
      if (licence.siteCode === siteCode) statements.push(upsert(licence));
    } catch (error) {
      log.warn("skipping an ancestor's licence that does not decode", { siteCode, key, error });
    }
  }
  return statements;
}

/** Forgets the licences of sites that are neither this one nor an ancestor. */
export function strangerLicencesStatement(ownCode: string, ancestors: readonly string[]) {
  const codes = [ownCode, ...ancestors];
  return {
    sql: `DELETE FROM licences WHERE site_code NOT IN (${codes.map(() => "?").join(", ")})`,
    args: codes,
  };
}
