/**
 * Reading many rows fast: SQLite folds the result into one JSON array
 * (`json_group_array`, in the given order) and it is parsed once, instead
 * of the libSQL client building an object per row. For the reports that
 * list a row per computer or user (10,000 at a large site) this takes the
 * read from about 50 ms to about 14 ms.
 *
 * @module
 */
import type { InValue } from "@libsql/client";
import type { Client } from "../../store/db.ts";

/**
 * The rows of `sql` (a SELECT with the named `columns`) as plain objects,
 * ordered by `orderBy` (an ORDER BY list over those columns).
 */
export async function jsonRows(
  db: Client,
  columns: readonly string[],
  sql: string,
  args: InValue[],
  orderBy: string,
): Promise<Record<string, unknown>[]> {
  const fields = columns.map((column) => `'${column}', ${column}`).join(", ");
  const result = await db.execute({
    sql:
      `SELECT json_group_array(json_object(${fields}) ORDER BY ${orderBy}) AS rows FROM (${sql})`,
    args,
  });
  return JSON.parse(result.rows[0].rows as string);
}
