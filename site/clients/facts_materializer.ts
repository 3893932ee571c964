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

export function factsStatements(
  client: string,
  doc: A.Doc<unknown>,
  changed: ChangedKeys,
): InStatement[] {
  if (!changed.put.has(FACTS_KEY)) return [];
  const facts = decodeFacts((doc as Record<string, unknown>)[FACTS_KEY]);
  return [{
    sql: `UPDATE clients SET host_name = ?, os_name = ?, os_version = ?, kernel = ?, arch = ?,
      time_zone = ?, agent_version = ? WHERE client_id = ?`,
    args: [
      facts.hostName,
      facts.osName,
      facts.osVersion,
      facts.kernel,
      facts.arch,
      facts.timeZone,
      facts.agentVersion,
      client,
    ],
  }];
}
