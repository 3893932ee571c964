/**
 * Where a licence's pool is installed on this site's own computers, as their
 * inventories tell: a computer holds the product when a rule of the pool
 * matches a file of one of its products (`inventory/installed_match.ts`).
 *
 * @module
 */
import type { InValue } from "@libsql/client";
import type { Client } from "../../store/db.ts";
import { installedSql } from "../inventory/installed_match.ts";

/** The computers here where a rule of the pool is installed. */
export async function installedClients(db: Client, ruleIds: readonly string[]) {
  const union = await poolMatches(db, ruleIds, false);
  if (!union) return new Set<string>();
  const result = await db.execute({
    sql: `SELECT client_id FROM (${union.sql})`,
    args: union.args,
  });
  return new Set(result.rows.map((row) => row.client_id as string));
}

/**
 * The same computers, each with when the earliest matching product was
 * installed (null when its inventory does not say, as for desktop entries).
 */
export async function installedSince(
  db: Client,
  ruleIds: readonly string[],
): Promise<Map<string, number | null>> {
  const union = await poolMatches(db, ruleIds, true);
  if (!union) return new Map();
  const result = await db.execute({
    sql: `SELECT p.client_id, min(s.installed_at) AS installed_at FROM (${union.sql}) p
      JOIN software s ON s.client_id = p.client_id AND s.product_key = p.product_key
      GROUP BY p.client_id`,
    args: union.args,
  });
  return new Map(result.rows.map((row) => [
    row.client_id as string,
    row.installed_at === null ? null : Number(row.installed_at),
  ]));
}

/** The UNION of the pool's rules' matches, or undefined when none can match. */
async function poolMatches(db: Client, ruleIds: readonly string[], products: boolean) {
  const rules = await db.execute({
    sql: `SELECT file_name, original_file_name, sha256, version FROM rules
      WHERE id IN (SELECT value FROM json_each(?))`,
    args: [JSON.stringify(ruleIds)],
  });
  const branches = rules.rows.flatMap((r) => {
    const match = installedSql({
      fileName: r.file_name as string | null,
      originalFileName: r.original_file_name as string | null,
      sha256: r.sha256 as string | null,
      version: r.version as string,
    }, { products });
    return match ? [match] : [];
  });
  if (branches.length === 0) return undefined;
  const columns = products ? "client_id, product_key" : "client_id";
  return {
    sql: branches.map((b) => `SELECT ${columns} FROM (${b.sql})`).join(" UNION "),
    args: branches.flatMap((b): InValue[] => b.args),
  };
}
