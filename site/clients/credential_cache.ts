/**
 * The site's own agents' credentials, kept in memory as they are read.
 *
 * Every agent request is authenticated, and on a large site most of them
 * carry nothing else: 50,000 agents asking whether their rules changed make
 * over a thousand requests a second, each of which read its client's secret
 * hash and actors from libSQL (270,000 reads in a 150 s load, the site's
 * most frequent statement). Credentials change only through this site
 * process, by enrolment (a new client, never cached before it exists) and by
 * revocation ({@linkcode CredentialCache.revoke}), so a cached credential is
 * never older than the database's.
 *
 * Only clients that have a credential are cached: a request naming an
 * unknown client always reads the database, so strangers cannot fill the
 * cache. It keeps the most recently used {@linkcode CREDENTIALS_KEPT}.
 *
 * @module
 */
import type { Client } from "../../store/db.ts";
import { RecentMap } from "../../lib/recent_map.ts";
import { type OwnCredential, ownCredential, revokeCredential } from "./client_secrets_table.ts";

/** About 15 MB of heap when full: a large site's whole fleet. */
export const CREDENTIALS_KEPT = 100_000;

export class CredentialCache {
  readonly #db: Client;
  readonly #entries: RecentMap<string, OwnCredential>;

  constructor(db: Client, kept = CREDENTIALS_KEPT) {
    this.#db = db;
    this.#entries = new RecentMap(kept);
  }

  /** The client's credential, from memory or the database; `undefined` when it has none. */
  async get(clientId: string): Promise<OwnCredential | undefined> {
    const cached = this.#entries.get(clientId);
    if (cached) return cached;
    const stored = await ownCredential(this.#db, clientId);
    if (stored) this.#entries.set(clientId, stored);
    return stored;
  }

  /** Removes the client's secret (`revokeCredential`); false if it had none. */
  async revoke(clientId: string): Promise<boolean> {
    // Forgotten first: a request between the two then reads the database, which is current.
    this.#entries.delete(clientId);
    return await revokeCredential(this.#db, clientId);
  }

  get size(): number {
    return this.#entries.size;
  }
}
