/**
 * The site's sync threads (`site/sync_threads/`), against a real site
 * process answering on two of them: a peer's batches always meet the same
 * thread; a rule the site's own thread adds reaches agents whose thread had
 * cached the rules before it (the thread checks a cached document against
 * the stored heads); every session of agents on either thread is stored
 * once; and what a thread refuses is answered as the site's thread answered
 * it, with nothing stored.
 *
 * @module
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import * as A from "@automerge/automerge";
import { readRules } from "../agent/core/rules_replica.ts";
import { shardOf } from "../site/sync_threads/sync_threads.ts";
import { encodeSyncBody } from "../sync/mod.ts";
import { usageDocId } from "../model/doc_id.ts";
import { type SiteHandle, startSite } from "./helpers/meter_process.ts";
import { tempDir } from "./helpers/metered_program.ts";
import { addRule, makeToken, sessions } from "./helpers/site_api.ts";
import { itemFor, postSyncBytes } from "./helpers/fake_agent.ts";
import { enrollClient, LocalClient, SiteDb, textSorted } from "./helpers/sync_fixture.ts";

const THREADS = 2;

describe("a site answering syncs on two threads", () => {
  let temp: Awaited<ReturnType<typeof tempDir>>;
  let site: SiteHandle;
  let siteDb: SiteDb;
  let admin: string;
  const clients: LocalClient[] = [];

  beforeAll(async () => {
    temp = await tempDir("meter-sync-threads-");
    site = await startSite(temp.dir, { extra: ["--sync-threads", String(THREADS)] });
    siteDb = new SiteDb(site.db);
    admin = await makeToken(site.db, "admin");
    const enroll = await makeToken(site.db, "enroll");
    await addRule(site.url, admin, { name: "First rule", fileName: "mtest-first" });
    // Three agents on each thread: enough for each thread to load the rules twice and keep them.
    const perThread = new Array(THREADS).fill(0);
    while (perThread.some((n) => n < 3)) {
      const client = await LocalClient.open(
        temp.dir,
        site.url,
        await enrollClient(site.url, enroll),
      );
      const thread = shardOf(`client:${client.clientId}`, THREADS);
      if (perThread[thread] >= 3) {
        client.close();
        continue;
      }
      perThread[thread]++;
      clients.push(client);
    }
  });

  afterAll(async () => {
    for (const client of clients) client.close();
    siteDb?.close();
    await site?.process.stop();
    await temp?.remove();
  });

  test("every session of agents on either thread is stored once", async () => {
    for (let round = 0; round < 3; round++) {
      for (const client of clients) {
        await client.addSessions(5);
        await client.sync();
      }
    }
    for (const client of clients) {
      const stored = await sessions(site.url, admin, { client: client.clientId });
      expect(stored.map((s) => s.id).sort()).toEqual(textSorted(client.written));
      expect(await siteDb.heads(client.usageDocId)).toEqual(await client.heads());
    }
  });

  test("a rule added by the site's thread reaches agents whose thread cached the old rules", async () => {
    const rule = await addRule(site.url, admin, { name: "Added later", fileName: "mtest-later" });
    for (const client of clients) {
      const outcome = await client.sync();
      expect(outcome.changed).toEqual([client.rulesDocId]);
      const rules = await readRules(client.docs, [client.rulesDocId], "S01");
      expect(rules.map((r) => r.name).sort()).toEqual(["Added later", "First rule"]);
      expect(rules.find((r) => r.id === rule.id)?.fileName).toBe("mtest-later");
      expect(await client.heads(client.rulesDocId)).toEqual(await siteDb.heads(client.rulesDocId));
    }
  });

  test("a batch a thread refuses is answered 403 with its reason, and stores nothing", async () => {
    const [thief, victim] = clients;
    const before = await siteDb.heads(victim.usageDocId);
    const forged = A.change(A.init<Record<string, string>>(), (d) => {
      d.x = "forged";
    });
    const [, msg] = A.generateSyncMessage(forged, A.initSyncState());
    const body = encodeSyncBody({ items: [{ doc: victim.usageDocId, msg: msg! }] });
    const response = await postSyncBytes(site.url, bearerOf(thief), body);
    expect(response.status).toBe(403);
    const error = (await response.json()).error;
    expect(error.code).toBe("doc_forbidden");
    expect(error.message).toContain(victim.usageDocId);
    expect(await siteDb.heads(victim.usageDocId)).toEqual(before);
  });

  test("a change by an actor not bound to the agent is refused 403 by its thread", async () => {
    const [client] = clients;
    const docId = usageDocId(client.clientId, "2026-01-01");
    const foreign = A.change(A.init<Record<string, string>>(), (d) => {
      d.x = "not mine";
    });
    const body = encodeSyncBody({ items: [itemFor(docId, foreign)] });
    const response = await postSyncBytes(site.url, bearerOf(client), body);
    expect(response.status).toBe(403);
    expect((await response.json()).error.code).toBe("foreign_actor");
    expect(await siteDb.heads(docId)).toBeUndefined();
  });

  test("a message that is not Automerge is refused 400 by its thread", async () => {
    const [client] = clients;
    const body = encodeSyncBody({
      items: [{ doc: client.usageDocId, msg: new Uint8Array([0x42, 1, 2, 3]) }],
    });
    const response = await postSyncBytes(site.url, bearerOf(client), body);
    expect(response.status).toBe(400);
    expect((await response.json()).error.code).toBe("bad_message");
  });
});

function bearerOf(client: LocalClient): string {
  return `Bearer ${client.enrolled.clientId}.${client.enrolled.secret}`;
}

describe("the thread of a peer", () => {
  test("is the same for every batch of the peer, and peers spread evenly", () => {
    const ids = Array.from(
      { length: 10_000 },
      (_, i) => `client:${i.toString(36).padStart(10, "k")}`,
    );
    const counts = [0, 0, 0, 0];
    for (const id of ids) {
      const thread = shardOf(id, 4);
      expect(shardOf(id, 4)).toBe(thread);
      counts[thread]++;
    }
    for (const count of counts) expect(Math.abs(count - 2_500)).toBeLessThan(250);
  });
});
