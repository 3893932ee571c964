/**
 * Columns added to a table after the first release: a database made before
 * them gets them with `ALTER TABLE ... ADD COLUMN` when it is opened, so an
 * upgrade needs no step of its own. `CREATE TABLE IF NOT EXISTS` gives them
 * to a new database; this gives them to an old one.
 *
 * @module
 */
import type { Client } from "./db.ts";

/** `[table, column, type]`: the column and its type as `ALTER TABLE` takes them. */
export type AddedColumn = readonly [table: string, column: string, type: string];

/** Whether `table` has `column`. */
export async function hasColumn(db: Client, table: string, column: string): Promise<boolean> {
  const has = await db.execute({
    sql: `SELECT 1 FROM pragma_table_info('${table}') WHERE name = ?`,
    args: [column],
  });
  return has.rows.length > 0;
}

/** Adds each column its table lacks. */
export async function addMissingColumns(
  db: Client,
  columns: readonly AddedColumn[],
): Promise<void> {
  for (const [table, column, type] of columns) {
    if (await hasColumn(db, table, column)) continue;
    try {
      await db.execute(`ALTER TABLE ${table} ADD COLUMN ${column} ${type}`);
    } catch (error) {
      // Another process opening the same old file may have added it first.
      if (!await hasColumn(db, table, column)) throw error;
    }
  }
}
