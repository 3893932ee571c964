/**
 * The `licences` table: the query side of the licences documents, this
 * site's own (`licences/<site>`) and its ancestors' (which may cover this
 * site), as the licences API, positions and alerts read them. Rule ids are
 * kept as a JSON array, read with `json_each`. Loading this needs no CBOR
 * (`meter report --help` loads it with no permissions); the documents are
 * turned into rows by `licences_materializer.ts`.
 *
 * @module
 */
import type { Client, InStatement } from "../../store/db.ts";
import type { Licence } from "../../model/licence.ts";

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

/** The `licences` row of a licence, inserted or brought up to date. */
export function upsert(l: Licence): InStatement {
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

/** The licence of that id known here, or undefined. */
export async function findLicence(db: Client, id: string): Promise<Licence | undefined> {
  const result = await db.execute({ sql: "SELECT * FROM licences WHERE id = ?", args: [id] });
  return result.rows[0] ? licenceFromRow(result.rows[0]) : undefined;
}
