/**
 * The agent's database stays bounded: usage documents the site holds in
 * full are deleted after `keepDays`, and when unsent usage is over the limit
 * the oldest closed days are dropped with a warning, never today or a day
 * with a session still running.
 */
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import * as A from "@automerge/automerge";
import { join } from "node:path";
import { openAgentDatabase } from "../agent/agent_db.ts";
import { applyRetention } from "../agent/core/usage_retention.ts";
import { UsageWriter } from "../agent/core/usage_writer.ts";
import type { Client } from "../store/db.ts";
import { DAY_MS, dayOf, usageDocId } from "../model/doc_id.ts";
import { DocStore } from "../store/doc_store.ts";
import { DocCache } from "../store/doc_cache.ts";
import { Mutex } from "../lib/mutex.ts";
import { newActorId } from "../lib/secret.ts";
import { SyncStateStore } from "../store/sync_state_store.ts";
import { tempDir } from "./helpers/metered_program.ts";

const CLIENT = "retentiontest";
const NOW = Date.UTC(2026, 10, 27, 12);
const actor = newActorId();

describe("usage retention", () => {
  let temp: Awaited<ReturnType<typeof tempDir>>;
  let db: Client;
  let docs: DocStore;
  let states: SyncStateStore;

  beforeEach(async () => {
    temp = await tempDir();
    db = await openAgentDatabase(join(temp.dir, "agent.db"));
    docs = new DocStore(db);
    states = new SyncStateStore(db);
  });

  afterEach(async () => {
    db.close();
    await temp.remove();
  });

  /** Records `count` ended sessions (or one open one) that started `daysAgo`. */
  async function sessionsOn(daysAgo: number, count: number, open = false) {
    const start = NOW - daysAgo * DAY_MS;
    const day = dayOf(start);
    for (let i = 0; i < count; i++) {
      await db.execute({
        sql:
          `INSERT INTO agent_sessions (id, day, seq, rule_id, user_name, exe, argv0, version, pid,
          start_ticks, boot_id, start_ms, end_ms, start_not_captured, end_not_captured, remote)
          VALUES (?, ?, ?, 'S01-1', 'alice', '/usr/bin/app', 'app', NULL, ?, 1, 'boot', ?, ?, 0, 0, 0)`,
        args: [`${day}/${i + 1}`, day, i + 1, 1000 + i, start + i, open ? null : start + i + 500],
      });
    }
    await new UsageWriter({ db, docs, cache: new DocCache(docs), lock: new Mutex() }).flush(
      CLIENT,
      actor,
    );
    return usageDocId(CLIENT, day);
  }

  /** Syncs the document with a replica, as the site would, and keeps the agent's sync state. */
  async function confirm(docId: string) {
    let doc = (await docs.load(docId))!;
    let mine = A.initSyncState();
    let replica = A.init();
    let theirs = A.initSyncState();
    for (let round = 0; round < 10; round++) {
      let sent, answered;
      [mine, sent] = A.generateSyncMessage(doc, mine);
      if (sent) [replica, theirs] = A.receiveSyncMessage(replica, theirs, sent);
      [theirs, answered] = A.generateSyncMessage(replica, theirs);
      if (answered) [doc, mine] = A.receiveSyncMessage(doc, mine, answered);
      if (!sent && !answered) break;
    }
    expect([...mine.sharedHeads].sort()).toEqual([...A.getHeads(doc)].sort());
    await db.execute(states.saveStatement("site", docId, mine));
  }

  const options = (maxUnsentBytes = 10 * 1024 * 1024) => ({
    db,
    docs,
    states,
    peer: "site",
    keepDays: 2,
    maxUnsentBytes,
    lock: new Mutex(),
  });

  test("deletes confirmed documents older than keepDays, keeps the rest", async () => {
    const old = await sessionsOn(5, 3);
    const recent = await sessionsOn(1, 3);
    const unconfirmedOld = await sessionsOn(4, 3);
    await confirm(old);
    await confirm(recent);
    const result = await applyRetention(options(), CLIENT, NOW);
    expect(result.deleted).toEqual([old]);
    expect(result.dropped).toEqual([]);
    expect(await docs.info(old)).toBeUndefined();
    expect(await docs.info(recent)).toBeDefined();
    expect(await docs.info(unconfirmedOld)).toBeDefined();
  });

  test("over the unsent limit, drops the oldest closed days first, never a busy day", async () => {
    const oldest = await sessionsOn(6, 50);
    const busy = await sessionsOn(5, 1, true);
    const older = await sessionsOn(4, 50);
    const today = await sessionsOn(0, 50);
    const sizes = await Promise.all(
      [oldest, older, today].map(async (d) => (await docs.info(d))!.bytes),
    );
    const busyBytes = (await docs.info(busy))!.bytes;
    // Room for today, the busy day and one more day: the oldest closed day goes.
    const limit = sizes[2] + busyBytes + sizes[1] + 10;
    const result = await applyRetention(options(limit), CLIENT, NOW);
    expect(result.dropped).toEqual([oldest]);
    expect(result.unsentBytes).toBeLessThanOrEqual(limit);
    expect(await docs.info(oldest)).toBeUndefined();
    for (const kept of [busy, older, today]) expect(await docs.info(kept)).toBeDefined();
  });
});
