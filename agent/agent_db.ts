/**
 * The agent's own libSQL file: everything is kept here first and synced
 * later, so the agent loses nothing while its site is away.
 *
 * - `agent_state`: enrolment (client id, secret, actor, site), the last poll
 *   time (the last moment the agent saw its open sessions running).
 * - `agent_sessions`: sessions still running, and ended ones not yet written
 *   to their usage document (`written = 0`).
 * - `day_counters`: the next session and program numbers of each day's
 *   document, kept after the document is deleted, so numbers never repeat.
 * - `doc_actors`: the actor that writes each usage document (see
 *   `model/actor_id.ts`).
 * - `executable_hashes`: the inventory's cache of executables' sha256.
 * - the document store and sync states from `store/`.
 *
 * An older file is brought to this schema by `agent_migrations.ts`.
 *
 * @module
 */
import { type Client, openDatabase } from "../store/db.ts";
import { docStoreSchema } from "../store/doc_store.ts";
import { executableHashesSchema } from "./core/inventory/executable_hashes.ts";
import { KeyValueTable } from "../store/key_value_table.ts";
import { syncStateSchema } from "../store/sync_state_store.ts";
import { SESSION_COLUMNS_SQL } from "../store/session_columns.ts";
import type { VersionedSchema } from "../store/schema_migrations.ts";
import { AGENT_MIGRATIONS } from "./agent_migrations.ts";

export const agentSchema = [
  ...docStoreSchema,
  ...syncStateSchema,
  ...executableHashesSchema,
  KeyValueTable.schema("agent_state"),
  `CREATE TABLE IF NOT EXISTS agent_sessions (
    id TEXT PRIMARY KEY,
    day TEXT NOT NULL,
    seq INTEGER NOT NULL,
    ${SESSION_COLUMNS_SQL},
    start_ticks INTEGER NOT NULL,
    boot_id TEXT NOT NULL,
    written INTEGER NOT NULL DEFAULT 0
  )`,
  `CREATE INDEX IF NOT EXISTS agent_sessions_unwritten ON agent_sessions (written, day)`,
  `CREATE TABLE IF NOT EXISTS day_counters (
    day TEXT PRIMARY KEY,
    next INTEGER NOT NULL,
    next_program INTEGER NOT NULL DEFAULT 0
  )`,
  `CREATE TABLE IF NOT EXISTS doc_actors (doc_id TEXT PRIMARY KEY, actor TEXT NOT NULL)`,
] as const;

/** The agent's schema, with the steps that bring an older database to it. */
export const AGENT_SCHEMA: VersionedSchema = {
  database: "agent",
  statements: agentSchema,
  migrations: AGENT_MIGRATIONS,
};

/**
 * Opens (or creates) the agent's database, migrating an older one. The file
 * holds the agent's secret: `openDatabase` makes it its owner's only.
 */
export async function openAgentDatabase(path: string): Promise<Client> {
  return await openDatabase(path, AGENT_SCHEMA);
}
