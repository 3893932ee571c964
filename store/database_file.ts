/**
 * The file behind the site's database connection, for workers that open
 * their own connection to it (queries, the summariser).
 *
 * @module
 */
import type { Client } from "./db.ts";

/** The path of the main database file, or `undefined` on a libSQL server or in memory. */
export async function databaseFile(db: Client): Promise<string | undefined> {
  if (db.protocol !== "file") return undefined;
  const list = await db.execute("PRAGMA database_list");
  const file = list.rows.find((row) => row.name === "main")?.file as string | undefined;
  return file || undefined;
}
