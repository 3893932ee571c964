/**
 * The agent database's schema versions: step `i` of
 * {@linkcode AGENT_MIGRATIONS} takes a database from version `i` to `i + 1`
 * (`store/schema_migrations.ts` says how they run and how to write one).
 *
 * 1. `session_language`: `agent_sessions` gets the language of a rule's
 *    program, for databases made before it (0.1.0 has it already, at
 *    version 0, and goes to 1 changing nothing but the version).
 *
 * @module
 */
import type { Transaction } from "../store/db.ts";
import { hasColumn, type Migration, tableExists } from "../store/schema_migrations.ts";

async function addSessionLanguage(tx: Transaction): Promise<void> {
  if (!await tableExists(tx, "agent_sessions")) return;
  if (await hasColumn(tx, "agent_sessions", "language")) return;
  await tx.execute("ALTER TABLE agent_sessions ADD COLUMN language TEXT");
}

/** Every step, in order: never reorder or edit one that was released. */
export const AGENT_MIGRATIONS: readonly Migration[] = [
  { name: "session_language", run: addSessionLanguage },
];
