/**
 * Agents' credentials, passed up the hierarchy so that an agent whose own
 * site is away can leave its usage at an ancestor (`meter agent --site HOME
 * --site PARENT`). Each site writes its own clients' records into
 * `clients/<site>/<shard>` documents (client id → `[secret hash, actors]`, the
 * hash only, never the secret; 16 shards by client id) and relays those
 * of the sites below, like summaries. An ancestor keeps them in
 * `descendant_credentials`, never for one of its own clients.
 *
 * @module
 */
import type * as A from "@automerge/automerge";
import { encode } from "cbor-x";
import { z } from "zod";
import type { ChangedKeys } from "../../store/changed_keys.ts";
import { decodeRecord } from "../../model/cbor_record.ts";
import type { Client, InStatement } from "../../store/db.ts";
import { clientIdSchema, clientsDocId } from "../../model/doc_id.ts";
import { fnv1a } from "../../lib/fnv1a.ts";
import type { Store } from "../../store/store.ts";
import { writeOwnRecordDoc } from "./own_record_doc.ts";
import { isOwnClient } from "../clients/clients_table.ts";
import { allCredentials } from "../clients/client_secrets_table.ts";

export const descendantCredentialsSchema = [
  `CREATE TABLE IF NOT EXISTS descendant_credentials (
    client_id TEXT PRIMARY KEY,
    site_code TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    actors TEXT NOT NULL
  )`,
] as const;

/**
 * A fixed number of shards, so a client's record never moves between
 * documents (a move could be applied as a delete after the put); 16 shards
 * hold 160,000 clients under 10,000 records each, and only non-empty ones
 * exist.
 */
const SHARDS = 16;
const credential = z.tuple([
  z.string().regex(/^[0-9a-f]{64}$/),
  z.array(z.string().regex(/^[0-9a-f]{32}$/)).max(16),
]);

/** Writes this site's clients' credentials into its documents; returns how many changed. */
export async function publishCredentials(site: Store): Promise<number> {
  const wanted = Array.from({ length: SHARDS }, () => new Map<string, Uint8Array>());
  for (const { clientId, secretHash, actors } of await allCredentials(site.db)) {
    wanted[fnv1a(clientId) % SHARDS].set(clientId, encode([secretHash, actors]));
  }
  return await site.lock.run(async () => {
    let changed = 0;
    for (let shard = 0; shard < SHARDS; shard++) {
      const docId = clientsDocId(site.code, shard);
      if (await writeOwnRecordDoc(site, docId, wanted[shard], "clients")) {
        changed++;
      }
    }
    return changed;
  });
}

/** A credentials document of a site below into `descendant_credentials`. */
export function credentialsStatements(
  siteCode: string,
  doc: A.Doc<unknown>,
  changed: ChangedKeys,
): InStatement[] {
  const records = doc as Record<string, unknown>;
  const statements: InStatement[] = [];
  for (const key of changed.put) {
    if (!clientIdSchema.safeParse(key).success) throw new Error(`${key} is not a client id`);
    const [hash, actors] = decodeRecord(`client ${key}`, records[key], credential);
    statements.push({
      sql: `INSERT INTO descendant_credentials (client_id, site_code, secret_hash, actors)
        SELECT ?1, ?2, ?3, ?4 WHERE NOT ${isOwnClient("?1")}
        ON CONFLICT (client_id) DO UPDATE SET secret_hash = excluded.secret_hash,
          actors = excluded.actors WHERE descendant_credentials.site_code = excluded.site_code`,
      args: [key, siteCode, hash, JSON.stringify(actors)],
    });
  }
  for (const key of changed.deleted) {
    statements.push({
      sql: "DELETE FROM descendant_credentials WHERE client_id = ? AND site_code = ?",
      args: [key, siteCode],
    });
  }
  return statements;
}

/** A descendant site's agent, by its credential's client id: its secret hash and actors. */
export async function descendantCredential(db: Client, clientId: string) {
  const result = await db.execute({
    sql: "SELECT site_code, secret_hash, actors FROM descendant_credentials WHERE client_id = ?",
    args: [clientId],
  });
  const row = result.rows[0];
  if (!row) return undefined;
  return {
    siteCode: row.site_code as string,
    secretHash: row.secret_hash as string,
    actors: new Set(JSON.parse(row.actors as string) as string[]),
  };
}
