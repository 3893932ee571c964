/**
 * The site keeps its agents' credentials in memory once read
 * (`CredentialCache`): only clients that have one are kept, so requests
 * naming made-up clients cannot fill it; it keeps a bounded number; and a
 * revocation through it removes the secret from the database and the
 * memory together, so the next request reads that there is none.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import { join } from "node:path";
import { openSiteDatabase } from "../site/mod.ts";
import { CredentialCache } from "../site/clients/credential_cache.ts";
import { insertCredentialStatements } from "../site/clients/client_secrets_table.ts";
import { insertClientStatement } from "../site/clients/clients_table.ts";
import { hashSecret } from "../lib/secret.ts";
import type { Client } from "../store/db.ts";
import { tempDir } from "./helpers/metered_program.ts";

let temp: Awaited<ReturnType<typeof tempDir>>;
let db: Client;

beforeAll(async () => {
  temp = await tempDir();
  db = await openSiteDatabase(join(temp.dir, "site.db"));
  for (const id of ["c1", "c2", "c3"]) {
    await db.batch([
      insertClientStatement({ clientId: id, hostName: id, enrolledAt: 0, enrolledWith: "t" }),
      ...insertCredentialStatements(id, hashSecret(`${id}-secret`), `actor-${id}`),
    ], "write");
  }
});

afterAll(async () => {
  db?.close();
  await temp?.remove();
});

test("unknown clients are not kept, however many are asked for", async () => {
  const cache = new CredentialCache(db);
  for (let i = 0; i < 100; i++) expect(await cache.get(`stranger-${i}`)).toBeUndefined();
  expect(cache.size).toBe(0);
});

test("a known client is kept, and no more than the bound", async () => {
  const cache = new CredentialCache(db, 2);
  const c1 = await cache.get("c1");
  expect(c1?.secretHash).toBe(hashSecret("c1-secret"));
  expect([...c1!.actors]).toEqual(["actor-c1"]);
  await cache.get("c2");
  await cache.get("c3");
  expect(cache.size).toBe(2);
});

test("a revocation through it is seen at once, from memory and the database", async () => {
  const cache = new CredentialCache(db);
  expect(await cache.get("c2")).toBeDefined();
  expect(await cache.revoke("c2")).toBe(true);
  expect(await cache.get("c2")).toBeUndefined();
  expect(await new CredentialCache(db).get("c2")).toBeUndefined();
  expect(await cache.revoke("c2")).toBe(false);
});
