/**
 * What an agent authenticates with, apart from `clients` so that `clients`
 * can be offered to queries as it is: `client_secrets` (the hash of each
 * client's secret, never the secret) and `client_actors` (the Automerge
 * actor ids whose changes its documents accept). Every statement on these
 * two tables is here.
 *
 * @module
 */
import type { Client, InStatement } from "../../store/db.ts";

export const clientSecretsSchema = [
  `CREATE TABLE IF NOT EXISTS client_secrets (
    client_id TEXT PRIMARY KEY REFERENCES clients (client_id),
    secret_hash TEXT NOT NULL
  )`,
  `CREATE TABLE IF NOT EXISTS client_actors (
    actor TEXT PRIMARY KEY,
    client_id TEXT NOT NULL REFERENCES clients (client_id)
  )`,
  // Every agent request looks up its client's actors: without it, a scan of all of them.
  `CREATE INDEX IF NOT EXISTS client_actors_by_client ON client_actors (client_id)`,
] as const;

/** A new client's credential: its secret's hash, and the one actor bound to it. */
export function insertCredentialStatements(
  clientId: string,
  secretHash: string,
  actor: string,
): InStatement[] {
  return [
    {
      sql: "INSERT INTO client_secrets (client_id, secret_hash) VALUES (?, ?)",
      args: [clientId, secretHash],
    },
    {
      sql: "INSERT INTO client_actors (actor, client_id) VALUES (?, ?)",
      args: [actor, clientId],
    },
  ];
}

/** Whether `actor` is bound to a client already. */
export async function actorTaken(db: Client, actor: string): Promise<boolean> {
  const taken = await db.execute({
    sql: "SELECT client_id FROM client_actors WHERE actor = ?",
    args: [actor],
  });
  return taken.rows.length > 0;
}

/** Removes a client's secret (its actors stay bound); false if it had none. */
export async function revokeCredential(db: Client, clientId: string): Promise<boolean> {
  const removed = await db.execute({
    sql: "DELETE FROM client_secrets WHERE client_id = ?",
    args: [clientId],
  });
  return removed.rowsAffected > 0;
}

/** What a client of this site authenticates with. */
export interface OwnCredential {
  secretHash: string;
  /** The actors whose changes its documents accept. */
  actors: ReadonlySet<string>;
}

/** A client of this site's secret hash and actors; `undefined` when it has no secret. */
export async function ownCredential(
  db: Client,
  clientId: string,
): Promise<OwnCredential | undefined> {
  const result = await db.execute({
    sql: `SELECT s.secret_hash, a.actor FROM client_secrets s
      LEFT JOIN client_actors a ON a.client_id = s.client_id WHERE s.client_id = ?`,
    args: [clientId],
  });
  const secretHash = result.rows[0]?.secret_hash as string | undefined;
  if (!secretHash) return undefined;
  const actors = result.rows.map((row) => row.actor as string | null).filter((a) => a !== null);
  return { secretHash, actors: new Set(actors) };
}

/**
 * What the credentials depend on, cheaply: when it is as at the last
 * publish, there is nothing to rewrite (a sync a minute need not read ten
 * thousand clients).
 */
export async function credentialsFingerprint(db: Client): Promise<string> {
  const result = await db.execute(
    `SELECT (SELECT count(*) FROM client_secrets) AS secrets,
      (SELECT count(*) FROM client_actors) AS actors,
      (SELECT max(rowid) FROM client_actors) AS last_actor,
      (SELECT max(rowid) FROM client_secrets) AS last_secret`,
  );
  return JSON.stringify(result.rows[0]);
}

/** Every client's secret hash and actors (a client without a secret is left out). */
export async function allCredentials(
  db: Client,
): Promise<{ clientId: string; secretHash: string; actors: string[] }[]> {
  const result = await db.execute(
    `SELECT s.client_id, s.secret_hash, json_group_array(a.actor) AS actors
    FROM client_secrets s LEFT JOIN client_actors a ON a.client_id = s.client_id
    GROUP BY s.client_id`,
  );
  return result.rows.map((row) => ({
    clientId: row.client_id as string,
    secretHash: row.secret_hash as string,
    // A client with no actor left has one null, from the LEFT JOIN.
    actors: (JSON.parse(row.actors as string) as (string | null)[]).filter((a) => a) as string[],
  }));
}
