/**
 * A small key–value table for a peer's own settings and identity (the site's
 * code and actor, the agent's enrolment).
 *
 * @module
 */
import type { Client, InStatement } from "./db.ts";

export class KeyValueTable {
  readonly #db: Client;
  readonly #table: string;

  constructor(db: Client, table: string) {
    this.#db = db;
    this.#table = table;
  }

  /** The schema statement: run it with the rest of the schema. */
  static schema(table: string): string {
    return `CREATE TABLE IF NOT EXISTS ${table} (key TEXT PRIMARY KEY, value TEXT NOT NULL)`;
  }

  async get(key: string): Promise<string | undefined> {
    const result = await this.#db.execute({
      sql: `SELECT value FROM ${this.#table} WHERE key = ?`,
      args: [key],
    });
    return result.rows[0]?.value as string | undefined;
  }

  setStatement(key: string, value: string): InStatement {
    return {
      sql: `INSERT INTO ${this.#table} (key, value) VALUES (?, ?) ` +
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      args: [key, value],
    };
  }

  async set(key: string, value: string): Promise<void> {
    await this.#db.execute(this.setStatement(key, value));
  }
}
