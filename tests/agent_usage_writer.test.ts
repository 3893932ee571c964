/**
 * The agent's usage writer against a real site: a day whose document the
 * agent deleted after the site confirmed it can get new sessions (a
 * long-running program matched late) without Automerge refusing the new
 * document's changes or a new program record replacing an old one; and
 * values a record cannot hold (a command line as argv[0], an end before the
 * start after a clock step) are cut to fit, so the site never refuses them.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { join } from "node:path";
import { openAgentDatabase } from "../agent/agent_db.ts";
import { applyRetention } from "../agent/core/usage_retention.ts";
import { UsageWriter } from "../agent/core/usage_writer.ts";
import type { Client } from "../store/db.ts";
import { DAY_MS, dayOf, rulesDocId, usageDocId } from "../model/doc_id.ts";
import { DocStore } from "../store/doc_store.ts";
import { DocCache } from "../store/doc_cache.ts";
import { Mutex } from "../lib/mutex.ts";
import { SyncClient, type SyncTarget } from "../sync/sync_client.ts";
import { SyncStateStore } from "../store/sync_state_store.ts";
import { type SiteHandle, startSite } from "./helpers/meter_process.ts";
import { tempDir } from "./helpers/metered_program.ts";
import { recordSession } from "./helpers/recorded_session.ts";
import { makeToken, sessions } from "./helpers/site_api.ts";
import { enrollClient, type Enrolled } from "./helpers/sync_fixture.ts";

describe("usage writer", () => {
  let temp: Awaited<ReturnType<typeof tempDir>>;
  let site: SiteHandle;
  let admin: string;
  let client: Enrolled;
  let db: Client;
  let docs: DocStore;
  let states: SyncStateStore;
  const lock = new Mutex();

  beforeAll(async () => {
    temp = await tempDir();
    site = await startSite(temp.dir);
    admin = await makeToken(site.db, "admin");
    client = await enrollClient(site.url, await makeToken(site.db, "enroll"));
    db = await openAgentDatabase(join(temp.dir, "agent.db"));
    docs = new DocStore(db);
    states = new SyncStateStore(db);
  });

  afterAll(async () => {
    db?.close();
    await site?.process.stop();
    await temp?.remove();
  });

  let pid = 4000;
  const record = (start: number, end: number, exe: string, argv0 = exe) =>
    recordSession(db, { start, end, exe, argv0, pid: pid++ });

  async function flushAndSync() {
    await new UsageWriter({ db, docs, cache: new DocCache(docs), lock }).flush(
      client.clientId,
      client.actor,
    );
    const targets: SyncTarget[] = [
      ...(await docs.list(`usage/${client.clientId}/`)).map((d): SyncTarget => ({
        docId: d.docId,
        access: "write",
      })),
      { docId: rulesDocId("S01"), access: "read" },
    ];
    return await new SyncClient({
      url: `${site.url}/v1/sync`,
      authorization: () => `Bearer ${client.clientId}.${client.secret}`,
      db,
      docs,
      states,
      peer: "site",
    }).sync(targets);
  }

  test("a day deleted after the site confirmed it takes new sessions again", async () => {
    const start = Date.now() - 5 * DAY_MS;
    const first = await record(start, start + 60_000, "/usr/bin/alpha");
    await flushAndSync();
    const docId = usageDocId(client.clientId, dayOf(start));
    const retention = await applyRetention(
      { db, docs, states, peer: "site", keepDays: 2, maxUnsentBytes: 1e9, lock },
      client.clientId,
    );
    expect(retention.deleted).toEqual([docId]);

    // A program that has run since that day matches only now.
    const late = await record(start + 1000, start + 3_600_000, "/usr/bin/beta");
    await flushAndSync();
    const rows = await sessions(site.url, admin, { client: client.clientId });
    expect(rows.map((r) => [r.id, r.exe])).toEqual([
      [first, "/usr/bin/alpha"],
      [late, "/usr/bin/beta"],
    ]);
  });

  test("values a record cannot hold are cut to fit, and the site takes them", async () => {
    const start = Date.now() - 60_000;
    const commandLine = "/opt/app/electron --type=renderer " + "x".repeat(10_000);
    const id = await record(start, start - 5_000, "/opt/app/electron", commandLine);
    const outcome = await flushAndSync();
    expect(outcome.rounds).toBe(1);
    const row = (await sessions(site.url, admin, { client: client.clientId })).find((r) =>
      r.id === id
    )!;
    expect(row.argv0).toBe(commandLine.slice(0, 4096));
    expect(row.end).toBe(row.start);
    expect(row.durationSeconds).toBe(0);
  });
});
