/**
 * The agent keeps the documents every flush and sync use (the day's usage,
 * the rules) loaded between them, against a real site: a second flush and
 * sync load nothing again, a document stored behind the cache's back is
 * loaded anew rather than overwritten, and a flush or sync that fails leaves
 * nothing of its own in the cache, so the next one stores every session.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import * as A from "@automerge/automerge";
import { join } from "node:path";
import { openAgentDatabase } from "../agent/agent_db.ts";
import { UsageWriter } from "../agent/core/usage_writer.ts";
import type { Client } from "../store/db.ts";
import { dayOf, rulesDocId, usageDocId } from "../model/doc_id.ts";
import { DocStore } from "../store/doc_store.ts";
import { DocCache } from "../store/doc_cache.ts";
import { Mutex } from "../lib/mutex.ts";
import { SyncClient, SyncError, type SyncTarget } from "../sync/sync_client.ts";
import { SyncStateStore } from "../store/sync_state_store.ts";
import { type SiteHandle, startSite } from "./helpers/meter_process.ts";
import { tempDir } from "./helpers/metered_program.ts";
import { recordSession } from "./helpers/recorded_session.ts";
import { addRule, makeToken, sessions } from "./helpers/site_api.ts";
import { enrollClient, type Enrolled } from "./helpers/sync_fixture.ts";

describe("documents the agent keeps loaded", () => {
  let temp: Awaited<ReturnType<typeof tempDir>>;
  let site: SiteHandle;
  let admin: string;
  let client: Enrolled;
  let db: Client;
  let docs: DocStore;
  let states: SyncStateStore;
  let cache: DocCache;
  const lock = new Mutex();
  const today = dayOf(Date.now());
  let docId: string;
  let pid = 5000;

  beforeAll(async () => {
    temp = await tempDir();
    site = await startSite(temp.dir);
    admin = await makeToken(site.db, "admin");
    await addRule(site.url, admin, { name: "kept", fileName: "kept" });
    client = await enrollClient(site.url, await makeToken(site.db, "enroll"));
    db = await openAgentDatabase(join(temp.dir, "agent.db"));
    docs = new DocStore(db);
    states = new SyncStateStore(db);
    cache = new DocCache(docs, 16, undefined, 256 * 1024);
    docId = usageDocId(client.clientId, today);
  });

  afterAll(async () => {
    db?.close();
    await site?.process.stop();
    await temp?.remove();
  });

  /** Records an ended session of today as the recorder does. */
  function record(): Promise<string> {
    const start = Date.now() - 60_000;
    return recordSession(db, { start, end: start + 1_000, exe: "/usr/bin/kept", pid: pid++ });
  }

  const flush = (through = cache) =>
    new UsageWriter({ db, docs, cache: through, lock }).flush(client.clientId, client.actor);

  function syncClient(url = `${site.url}/v1/sync`) {
    return new SyncClient({
      url,
      authorization: () => `Bearer ${client.clientId}.${client.secret}`,
      db,
      docs,
      states,
      peer: "site",
      cache,
      timeoutMs: 5_000,
    });
  }

  const targets = (): SyncTarget[] => [
    { docId, access: "write" },
    { docId: rulesDocId("S01"), access: "read" },
  ];

  async function idsAtSite(): Promise<string[]> {
    const rows = await sessions(site.url, admin, { client: client.clientId });
    return rows.map((r) => r.id).sort();
  }

  test("a second flush and sync use the loaded documents", async () => {
    const first = await record();
    await flush();
    const kept = A.getBackend(cache.peek(docId)!.doc);
    await syncClient().sync(targets());
    expect(cache.peek(rulesDocId("S01"))).toBeDefined();
    expect(A.getBackend(cache.peek(docId)!.doc)).toBe(kept); // the same document, not loaded again

    const hits = cache.hits;
    const second = await record();
    await flush();
    await syncClient().sync(targets());
    // The flush and the sync each found the day's document; the sync the rules too.
    expect(cache.hits - hits).toBe(3);
    expect(await idsAtSite()).toEqual([first, second].sort());
    expect(cache.freeReleased()).toBe(0); // nothing left the cache
  });

  test("a document stored behind the cache's back is loaded anew", async () => {
    const before = await idsAtSite();
    const other = await record();
    await flush(new DocCache(docs)); // another writer: the cached version is now old
    const next = await record();
    await flush();
    await syncClient().sync(targets());
    expect(await idsAtSite()).toEqual([...before, other, next].sort());
  });

  test("a flush that fails leaves nothing of its own, and the next stores it all", async () => {
    const before = await idsAtSite();
    cache.freeReleased();
    await db.execute(
      "CREATE TRIGGER refuse BEFORE UPDATE ON agent_sessions BEGIN SELECT RAISE(ABORT, 'refused'); END",
    );
    const lost = await record();
    await expect(flush()).rejects.toThrow(/refused/);
    expect(cache.peek(docId)).toBeUndefined();
    expect(cache.freeReleased()).toBe(1);
    await db.execute("DROP TRIGGER refuse");
    await flush();
    await syncClient().sync(targets());
    expect(await idsAtSite()).toEqual([...before, lost].sort());
  });

  test("a sync that fails leaves nothing of its own, and the next sends it all", async () => {
    const before = await idsAtSite();
    cache.freeReleased();
    const unsent = await record();
    await flush();
    const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = closed.addr.port;
    closed.close();
    await expect(syncClient(`http://127.0.0.1:${port}/v1/sync`).sync(targets()))
      .rejects.toBeInstanceOf(SyncError);
    expect(cache.peek(docId)).toBeUndefined();
    expect(cache.peek(rulesDocId("S01"))).toBeUndefined();
    expect(cache.freeReleased()).toBe(2);
    await syncClient().sync(targets());
    expect(await idsAtSite()).toEqual([...before, unsent].sort());
    expect(cache.peek(rulesDocId("S01"))).toBeDefined(); // a replica is kept again
  });
});
