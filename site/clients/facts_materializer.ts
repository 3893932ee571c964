/**
 * Inventory documents into the `clients` row: host name, operating system,
 * time zone and agent version, from the `facts` record. (Installed software
 * joins this document with the inventory issue.)
 *
 * @module
 */
import type * as A from "@automerge/automerge";
import type { ChangedKeys } from "../../store/changed_keys.ts";
import { decodeFacts, FACTS_KEY } from "../../model/client_facts.ts";
import type { InStatement } from "../../store/db.ts";
import { factsStatement } from "./clients_table.ts";

export function factsStatements(
  client: string,
  doc: A.Doc<unknown>,
  changed: ChangedKeys,
): InStatement[] {
  if (!changed.put.has(FACTS_KEY)) return [];
  const facts = decodeFacts((doc as Record<string, unknown>)[FACTS_KEY]);
  return [factsStatement(client, facts)];
}
