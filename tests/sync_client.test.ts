/**
 * The sync client against a real site process on loopback: a sync with new
 * data is one round trip and delivers every session; a sync with nothing new
 * sends only the rules document's heads; a rule added at the site reaches the
 * client's replica; repeating a sync, or replaying a request byte for byte,
 * changes no row at the site; and a client whose persisted sync state is
 * older than the site's (or gone) re-sends, converges and duplicates nothing.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { readRules } from "../agent/core/rules_replica.ts";
import { CBOR_TYPE } from "../sync/sync_batch.ts";
import { type SiteHandle, startSite } from "./helpers/meter_process.ts";
import { tempDir } from "./helpers/metered_program.ts";
import { addRule, makeToken, sessions } from "./helpers/site_api.ts";
import {
  enrollClient,
  LocalClient,
  recordingFetch,
  SiteDb,
  textSorted,
  type WireRequest,
} from "./helpers/sync_fixture.ts";

describe("sync client against a real site", () => {
  let temp: Awaited<ReturnType<typeof tempDir>>;
  let site: SiteHandle;
  let siteDb: SiteDb;
  let admin: string;
  let enroll: string;
  const clients: LocalClient[] = [];

  async function newClient(): Promise<LocalClient> {
    const client = await LocalClient.open(temp.dir, site.url, await enrollClient(site.url, enroll));
    clients.push(client);
    return client;
  }

  async function siteIds(client: LocalClient): Promise<string[]> {
    return (await sessions(site.url, admin, { client: client.clientId })).map((s) => s.id).sort();
  }

  beforeAll(async () => {
    temp = await tempDir("meter-sync-client-");
    site = await startSite(temp.dir);
    siteDb = new SiteDb(site.db);
    admin = await makeToken(site.db, "admin");
    enroll = await makeToken(site.db, "enroll");
    // Agents always follow a rules document; give the site one to start with.
    await addRule(site.url, admin, { name: "First rule", fileName: "mtest-first" });
  });

  afterAll(async () => {
    for (const client of clients) client.close();
    siteDb?.close();
    await site?.process.stop();
    await temp?.remove();
  });

  describe("one client, syncing as an agent does", () => {
    let client: LocalClient;
    const wire = recordingFetch();
    let dataRequest: WireRequest;

    beforeAll(async () => {
      client = await newClient();
    });

    test("(a) the first sync of 10 sessions is one round and delivers all of them", async () => {
      const ids = await client.addSessions(10);
      const outcome = await client.sync({ fetch: wire.fetch });
      console.log("first sync", outcome);

      expect(outcome.rounds).toBe(1);
      expect(wire.requests).toHaveLength(1);
      expect(wire.requests[0].status).toBe(200);
      expect(wire.requests[0].docs.sort()).toEqual([client.rulesDocId, client.usageDocId].sort());
      expect(wire.requests[0].changes[client.usageDocId]).toBe(1);
      expect(outcome.read).toEqual([client.rulesDocId]);
      // The site's first rule came back in the same round.
      expect(outcome.changed).toEqual([client.rulesDocId]);
      expect(await siteIds(client)).toEqual(textSorted(ids));
      expect(await siteDb.heads(client.usageDocId)).toEqual(await client.heads());
      const rows = await siteDb.rows(client.clientId);
      expect(rows.map((r) => r.pid).sort()).toEqual(
        Array.from({ length: 10 }, (_, i) => 10_001 + i),
      );
    });

    test("(b) a sync with nothing new is one round carrying only the rules document", async () => {
      const before = wire.requests.length;
      const outcome = await client.sync({ fetch: wire.fetch });
      console.log("nothing-new sync", outcome);

      expect(outcome.rounds).toBe(1);
      const sent = wire.requests.slice(before);
      expect(sent).toHaveLength(1);
      expect(sent[0].docs).toEqual([client.rulesDocId]);
      expect(sent[0].changes[client.rulesDocId]).toBe(0);
      expect(outcome.changed).toEqual([]);
      // Heads, need and an empty bloom: a few dozen bytes, not a document.
      expect(outcome.bytesSent).toBe(sent[0].body.length);
      expect(outcome.bytesSent).toBeLessThan(200);
      // The site had nothing to say.
      expect(outcome.bytesReceived).toBeLessThan(100);
      expect(await siteIds(client)).toHaveLength(10);
    });

    test("(c) 10 more sessions travel in one round, and only the new change", async () => {
      const ids = await client.addSessions(10);
      const before = wire.requests.length;
      const outcome = await client.sync({ fetch: wire.fetch });
      console.log("10 more sessions", outcome);

      expect(outcome.rounds).toBe(1);
      const sent = wire.requests.slice(before);
      expect(sent).toHaveLength(1);
      expect(sent[0].changes[client.usageDocId]).toBe(1);
      dataRequest = sent[0];
      const all = await siteIds(client);
      expect(all).toHaveLength(20);
      expect(all).toEqual(textSorted(client.written));
      for (const id of ids) expect(all).toContain(id);
      expect(await siteDb.heads(client.usageDocId)).toEqual(await client.heads());
    });

    test("(d) a rule added at the site reaches the client's replica", async () => {
      const rule = await addRule(site.url, admin, { name: "Added later", fileName: "mtest-later" });
      const outcome = await client.sync({ fetch: wire.fetch });

      expect(outcome.rounds).toBe(1);
      expect(outcome.changed).toEqual([client.rulesDocId]);
      const rules = await readRules(
        client.docs,
        [client.rulesDocId],
        client.rulesDocId.slice("rules/".length),
      );
      expect(rules.map((r) => r.name).sort()).toEqual(["Added later", "First rule"]);
      expect(rules.find((r) => r.id === rule.id)?.fileName).toBe("mtest-later");
      expect(await siteDb.heads(client.rulesDocId)).toEqual(await client.heads(client.rulesDocId));

      // And the next sync is a heartbeat again.
      const again = await client.sync({ fetch: wire.fetch });
      expect(again.changed).toEqual([]);
      expect(wire.requests.at(-1)!.docs).toEqual([client.rulesDocId]);
    });

    test("(e) syncing again, or replaying a request byte for byte, changes no row", async () => {
      const rows = await siteDb.rows(client.clientId);
      const heads = await siteDb.heads(client.usageDocId);
      expect(rows).toHaveLength(20);

      for (let i = 0; i < 2; i++) {
        const outcome = await client.sync();
        expect(outcome.rounds).toBe(1);
        expect(outcome.changed).toEqual([]);
      }
      // The exact body that delivered sessions 11-20, sent twice more.
      for (let i = 0; i < 2; i++) {
        const response = await fetch(new URL("/v1/sync", site.url), {
          method: "POST",
          headers: {
            "content-type": CBOR_TYPE,
            authorization: `Bearer ${client.clientId}.${client.enrolled.secret}`,
            ...(dataRequest.encoding ? { "content-encoding": dataRequest.encoding } : {}),
          },
          body: dataRequest.body as Uint8Array<ArrayBuffer>,
        });
        expect(response.status).toBe(200);
        await response.body?.cancel();
      }
      // Same rows, same values, same update times: nothing was rewritten.
      expect(await siteDb.rows(client.clientId)).toEqual(rows);
      expect(await siteDb.heads(client.usageDocId)).toEqual(heads);
      expect(await siteIds(client)).toEqual(textSorted(client.written));
    });
  });

  test("(f) a client whose sync state is older than the site's recovers without duplicates", async () => {
    const client = await newClient();
    await client.addSessions(5);
    await client.sync();
    const old = await client.syncStateRows();
    expect(old.map((r) => r.doc_id).sort()).toEqual([client.rulesDocId, client.usageDocId].sort());

    await client.addSessions(5);
    await client.sync();
    // A rule the client receives after the old state was taken: its replica
    // then holds changes the old state says the site lacks.
    await addRule(site.url, admin, { name: "After the snapshot", fileName: "mtest-snap" });
    await client.addSessions(5);
    const synced = await client.sync();
    expect(synced.changed).toEqual([client.rulesDocId]);
    const rows = await siteDb.rows(client.clientId);
    expect(rows).toHaveLength(15);

    // The site holds all 15 and the new rule; the client's state says it
    // holds only the first 5 sessions and the older rules.
    await client.restoreSyncStateRows(old);
    const wire = recordingFetch();
    const outcome = await client.sync({ fetch: wire.fetch });
    console.log("sync from a stale state", outcome, wire.requests.map((r) => r.changes));
    expect(outcome.rounds).toBe(1);
    // It re-sends the two changes the site already has, but never the site's
    // own rules changes back (the site refuses a batch that does, with 403) ...
    expect(wire.requests[0].changes).toEqual({ [client.usageDocId]: 2, [client.rulesDocId]: 0 });
    // ... which change nothing there.
    expect(await siteDb.rows(client.clientId)).toEqual(rows);
    expect(await siteDb.heads(client.usageDocId)).toEqual(await client.heads());

    // Stale state plus new data: the new sessions arrive, once.
    await client.restoreSyncStateRows(old);
    await client.addSessions(5);
    await client.sync();
    expect(await siteIds(client)).toEqual(textSorted(client.written));
    expect(client.written).toHaveLength(20);

    // No state at all: everything is offered again, and still nothing doubles.
    await client.restoreSyncStateRows([]);
    const fresh = recordingFetch();
    await client.sync({ fetch: fresh.fetch });
    expect(fresh.requests[0].changes).toEqual({ [client.usageDocId]: 4, [client.rulesDocId]: 0 });
    const after = await siteDb.rows(client.clientId);
    expect(after).toHaveLength(20);
    expect(after.filter((r) => rows.some((o) => o.session_id === r.session_id))).toEqual(rows);
    expect(await siteDb.heads(client.usageDocId)).toEqual(await client.heads());

    // Converged: the state is saved again, and the next sync is a heartbeat.
    const next = recordingFetch();
    await client.sync({ fetch: next.fetch });
    expect(next.requests.map((r) => r.docs)).toEqual([[client.rulesDocId]]);
    const rules = await readRules(
      client.docs,
      [client.rulesDocId],
      client.rulesDocId.slice("rules/".length),
    );
    expect(rules.map((r) => r.name)).toContain("After the snapshot");
  });
});
