/**
 * Collections as the site stores them: a name, a description and the
 * membership expression as JSON, in the `collections` table. Members are not
 * stored; they are evaluated from current data whenever they are asked for
 * (`membership_sql.ts`).
 *
 * @module
 */
import { z } from "zod";
import type { Client } from "../../store/db.ts";
import { ApiError, badRequest, notFound } from "../http/api_error.ts";
import { iso } from "../http/time_param.ts";
import { type Membership, membershipSchema, ruleMentions } from "./membership.ts";

export const collectionsSchema = [
  `CREATE TABLE IF NOT EXISTS collections (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    description TEXT NOT NULL DEFAULT '',
    definition TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL
  )`,
] as const;

/** What an administrator sends to create a collection. */
export const collectionInputSchema = z.object({
  name: z.string().trim().min(1, "name is required").max(200),
  description: z.string().max(2000).optional(),
  definition: membershipSchema,
}).strict();

export type CollectionInput = z.infer<typeof collectionInputSchema>;

export const collectionSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  description: z.string(),
  definition: membershipSchema,
  createdAt: z.string(),
});

export type Collection = z.infer<typeof collectionSchema>;

/** How a collection is listed as CSV: the definition as its JSON text. */
export const COLLECTION_COLUMNS = ["id", "name", "description", "definition", "createdAt"] as const;

function fromRow(row: Record<string, unknown>): Collection {
  return {
    id: row.id as number,
    name: row.name as string,
    description: row.description as string,
    definition: membershipSchema.parse(JSON.parse(row.definition as string)) as Membership,
    createdAt: iso(row.created_at as number)!,
  };
}

/** Throws a 400 naming the first place in the definition that names an unknown rule. */
async function checkRules(db: Client, definition: Membership): Promise<void> {
  const mentions = ruleMentions(definition);
  if (mentions.length === 0) return;
  const ids = [...new Set(mentions.map(([rule]) => rule))];
  const found = await db.execute({
    sql: "SELECT id FROM rules WHERE id IN (SELECT value FROM json_each(?))",
    args: [JSON.stringify(ids)],
  });
  const known = new Set(found.rows.map((row) => row.id as string));
  const unknown = mentions.find(([rule]) => !known.has(rule));
  if (unknown) {
    throw badRequest(
      `${unknown[1]}: no rule ${unknown[0]} at this site; see GET /v1/rules`,
      "unknown_rule",
    );
  }
}

export async function createCollection(
  db: Client,
  input: CollectionInput,
  createdBy: string,
  now = Date.now(),
): Promise<Collection> {
  await checkRules(db, input.definition);
  const result = await db.execute({
    sql: `INSERT INTO collections (name, description, definition, created_at, created_by)
      VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING RETURNING *`,
    args: [input.name, input.description ?? "", JSON.stringify(input.definition), now, createdBy],
  });
  if (!result.rows[0]) {
    throw new ApiError(
      409,
      "name_taken",
      `a collection named '${input.name}' exists; choose another name or delete that one`,
    );
  }
  return fromRow(result.rows[0]);
}

export async function listCollections(db: Client): Promise<Collection[]> {
  const result = await db.execute("SELECT * FROM collections ORDER BY name, id");
  return result.rows.map((row) => fromRow(row));
}

/** Parses a path's collection id, or a 400. */
export function collectionId(text: string): number {
  if (!/^[1-9]\d{0,15}$/.test(text)) {
    throw badRequest(`${text} is not a collection id (a whole number, like 3)`, "invalid_input");
  }
  return Number(text);
}

export async function getCollection(db: Client, id: number): Promise<Collection> {
  const result = await db.execute({ sql: "SELECT * FROM collections WHERE id = ?", args: [id] });
  if (!result.rows[0]) throw notFound(`no collection ${id}; see GET /v1/collections`);
  return fromRow(result.rows[0]);
}

export async function deleteCollection(db: Client, id: number): Promise<void> {
  const result = await db.execute({ sql: "DELETE FROM collections WHERE id = ?", args: [id] });
  if (result.rowsAffected === 0) throw notFound(`no collection ${id}; see GET /v1/collections`);
}
