/**
 * The `licences` table: the query side of the licences documents, this
 * site's own (`licences/<site>`) and its ancestors' (which may cover this
 * site), as the licences API, positions and alerts read them. Rule ids are
 * kept as a JSON array, read with `json_each`.
 *
 * @module
 */
import type * as A from "@automerge/automerge";
import type { ChangedKeys } from "../../store/changed_keys.ts";
import type { InStatement } from "../../store/db.ts";
import { log } from "../../lib/log.ts";
import type { Licence } from "../../model/licence.ts";
import { decodeLicence } from "../../model/licence_record.ts";

export const licencesSchema = [
  `CREATE TABLE IF NOT EXISTS licences (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    rule_ids TEXT NOT NULL,
    model TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    unit_cost REAL,
    cost_period TEXT NOT NULL,
    currency TEXT NOT NULL,
    contract_start TEXT,
    contract_end TEXT,
    covers_site TEXT NOT NULL,
    threshold_minutes INTEGER NOT NULL,
    window_days INTEGER NOT NULL,
    alert_at_percent INTEGER,
    site_code TEXT NOT NULL,
    comment TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  )`,
] as const;

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

/** The `licences` row of a licence, inserted or brought up to date. */
function upsert(l: Licence): InStatement {
  return {
    sql: `INSERT OR REPLACE INTO licences (id, name, rule_ids, model, quantity, unit_cost,
        cost_period, currency, contract_start, contract_end, covers_site, threshold_minutes,
        window_days, alert_at_percent, site_code, comment, created_at, updated_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    args: [
      l.id,
      l.name,
      JSON.stringify(l.ruleIds),
      l.model,
      l.quantity,
      l.unitCost,
      l.costPeriod,
      l.currency,
      l.contractStart,
      l.contractEnd,
      l.coversSite,
      l.thresholdMinutes,
      l.windowDays,
      l.alertAtPercent,
      l.siteCode,
      l.comment,
      l.createdAt,
      l.updatedAt,
    ],
  };
}

/** A `licences` row back into a licence. */
export function licenceFromRow(row: Record<string, unknown>): Licence {
  return {
    id: row.id as string,
    name: row.name as string,
    ruleIds: JSON.parse(row.rule_ids as string),
    model: row.model as Licence["model"],
    quantity: Number(row.quantity),
    unitCost: row.unit_cost === null ? null : Number(row.unit_cost),
    costPeriod: row.cost_period as Licence["costPeriod"],
    currency: row.currency as string,
    contractStart: row.contract_start as string | null,
    contractEnd: row.contract_end as string | null,
    coversSite: row.covers_site as string,
    thresholdMinutes: Number(row.threshold_minutes),
    windowDays: Number(row.window_days),
    alertAtPercent: row.alert_at_percent === null ? null : Number(row.alert_at_percent),
    siteCode: row.site_code as string,
    comment: row.comment as string,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

/** Every licence known here, in id order. */
export async function listLicences(db: { execute(sql: string): Promise<{ rows: unknown[] }> }) {
  const result = await db.execute("SELECT * FROM licences ORDER BY site_code, id");
  return result.rows.map((row) => licenceFromRow(row as Record<string, unknown>));
}
