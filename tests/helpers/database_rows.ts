/**
 * Every row of every table of a database, for tests that must show a
 * migration, a backup or a restore kept all of them: rows as JSON text,
 * sorted, per table (internal `sqlite_` tables left out).
 *
 * @module
 */
import { createClient } from "@libsql/client";

export type DatabaseRows = Record<string, string[]>;

/** Reads `file` on a plain connection of its own, changing nothing in it. */
export async function databaseRows(file: string): Promise<DatabaseRows> {
  const db = createClient({ url: `file:${file}`, intMode: "number" });
  try {
    const tables = await db.execute(
      "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    );
    const rows: DatabaseRows = {};
    for (const { name } of tables.rows) {
      const result = await db.execute(`SELECT * FROM "${name}"`);
      rows[name as string] = result.rows.map((row) => JSON.stringify({ ...row }, bytesAsText))
        .sort();
    }
    return rows;
  } finally {
    db.close();
  }
}

/** Reads one number: `PRAGMA user_version`, a count. */
export async function databaseValue(file: string, sql: string): Promise<number> {
  const db = createClient({ url: `file:${file}` });
  try {
    return Number((await db.execute(sql)).rows[0][0]);
  } finally {
    db.close();
  }
}

function bytesAsText(_key: string, value: unknown): unknown {
  if (value instanceof ArrayBuffer) return `bytes:${new Uint8Array(value).join(",")}`;
  return value;
}
