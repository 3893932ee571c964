/**
 * Agents' secret hashes live in `client_secrets`, never in `clients` (which
 * queries may read): a new site's `clients` has no such column, a database
 * made before the split is moved over when opened (and still authenticates
 * its agents, and gains the columns added since), and a wrong secret is still refused.
 */
import { createClient } from "@libsql/client";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { authenticateClient } from "../site/routes/auth.ts";
import { CredentialCache } from "../site/clients/credential_cache.ts";
import { openSiteDatabase } from "../site/site_db.ts";
import { hashSecret } from "../lib/secret.ts";
import { tempDir } from "./helpers/metered_program.ts";

const OLD_CLIENTS = `CREATE TABLE clients (
  client_id TEXT PRIMARY KEY,
  secret_hash TEXT NOT NULL,
  host_name TEXT NOT NULL DEFAULT '',
  os_name TEXT NOT NULL DEFAULT '',
  os_version TEXT NOT NULL DEFAULT '',
  kernel TEXT NOT NULL DEFAULT '',
  arch TEXT NOT NULL DEFAULT '',
  time_zone TEXT NOT NULL DEFAULT 'UTC',
  agent_version TEXT NOT NULL DEFAULT '',
  enrolled_at INTEGER NOT NULL,
  enrolled_with TEXT NOT NULL,
  last_sync_at INTEGER,
  last_usage_at INTEGER
)`;

describe("client secrets", () => {
  let temp: Awaited<ReturnType<typeof tempDir>>;

  beforeAll(async () => {
    temp = await tempDir("meter-secrets-");
  });

  afterAll(async () => {
    await temp?.remove();
  });

  async function columns(db: Awaited<ReturnType<typeof openSiteDatabase>>): Promise<string[]> {
    const result = await db.execute("SELECT name FROM pragma_table_info('clients')");
    return result.rows.map((row) => row.name as string);
  }

  test("a new site keeps no secret in clients", async () => {
    const db = await openSiteDatabase(`${temp.dir}/new.db`);
    try {
      expect(await columns(db)).not.toContain("secret_hash");
      expect(await columns(db)).toContain("host_name");
    } finally {
      db.close();
    }
  });

  test("an older database is moved over and its agents still authenticate", async () => {
    const path = `${temp.dir}/old.db`;
    const old = createClient({ url: `file:${path}` });
    await old.batch([
      OLD_CLIENTS,
      "CREATE TABLE client_actors (actor TEXT PRIMARY KEY, client_id TEXT NOT NULL)",
      {
        sql: `INSERT INTO clients (client_id, secret_hash, host_name, enrolled_at, enrolled_with)
          VALUES ('c1', ?, 'ws-one', 1, 'tok')`,
        args: [hashSecret("sesame")],
      },
      "INSERT INTO client_actors VALUES ('a1', 'c1'), ('a2', 'c1')",
    ], "write");
    old.close();

    const db = await openSiteDatabase(path);
    try {
      expect(await columns(db)).not.toContain("secret_hash");
      // Columns added since (the clock offset) are added to the old table.
      expect(await columns(db)).toEqual(
        expect.arrayContaining(["clock_offset_ms", "clock_checked_at"]),
      );
      const host = await db.execute("SELECT host_name FROM clients WHERE client_id = 'c1'");
      expect(host.rows[0].host_name).toBe("ws-one");
      const secrets = await db.execute("SELECT * FROM client_secrets");
      expect(secrets.rows.map((r) => [r.client_id, r.secret_hash])).toEqual([
        ["c1", hashSecret("sesame")],
      ]);
      const client = await authenticateClient(new CredentialCache(db), db, "c1.sesame");
      expect(client.clientId).toBe("c1");
      expect([...client.actors].sort()).toEqual(["a1", "a2"]);
      await expect(authenticateClient(new CredentialCache(db), db, "c1.wrong")).rejects
        .toMatchObject({ status: 401 });
      await expect(authenticateClient(new CredentialCache(db), db, "c2.sesame")).rejects
        .toMatchObject({ status: 401 });
    } finally {
      db.close();
    }
    // Opening it again changes nothing more.
    const again = await openSiteDatabase(path);
    try {
      expect((await authenticateClient(new CredentialCache(again), again, "c1.sesame")).clientId)
        .toBe("c1");
    } finally {
      again.close();
    }
  });
});
