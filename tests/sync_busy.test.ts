/**
 * A server behind with its writes refuses more batches with changes at
 * once (`SyncBusy`, answered 429 `site_busy` by the site) instead of holding
 * them, while heartbeats are still answered; what waited is stored once the
 * writes catch up, and what was refused is not stored at all. A batch that
 * only reads, as every agent's after a rule changed, does not wait for the
 * writes at all. The server's write lock is held by the tests to keep the
 * writes behind.
 *
 * @module
 */
import * as A from "@automerge/automerge";
import { afterAll, beforeAll, expect, test } from "vitest";
import { join } from "node:path";
import { SyncBusy, SyncHandler, type SyncPeer } from "../sync/mod.ts";
import { openSiteDatabase } from "../site/mod.ts";
import { DocStore } from "../store/doc_store.ts";
import { SyncStateStore } from "../store/sync_state_store.ts";
import { DocCache } from "../store/doc_cache.ts";
import { Mutex } from "../lib/mutex.ts";
import type { Client } from "../store/db.ts";
import { rulesDocId, usageDocId } from "../model/doc_id.ts";
import { primeSyncState } from "../store/sync_state_store.ts";
import { itemFor, newRecordDoc } from "./helpers/fake_agent.ts";
import { tempDir } from "./helpers/metered_program.ts";

let temp: Awaited<ReturnType<typeof tempDir>>;
let db: Client;

beforeAll(async () => {
  temp = await tempDir();
  db = await openSiteDatabase(join(temp.dir, "site.db"));
});

afterAll(async () => {
  db?.close();
  await temp?.remove();
});

test("past maxQueued batches waiting, one more with changes is refused at once; heartbeats pass", async () => {
  const docs = new DocStore(db);
  const lock = new Mutex();
  const handler = new SyncHandler({
    db,
    docs,
    states: new SyncStateStore(db),
    cache: new DocCache(docs, 100),
    lock,
    materialize: () => [],
    maxQueued: 2,
  });
  const actor = crypto.randomUUID().replaceAll("-", "");
  const peer: SyncPeer = {
    id: "client:c1",
    actors: new Set([actor]),
    read: [],
    access: () => "write",
  };
  const batch = (day: string) => {
    const doc = A.change(newRecordDoc(actor), (d) => {
      d.x = new Uint8Array([1]);
    });
    return [itemFor(usageDocId("c1", day), doc)];
  };
  let release = () => {};
  const held = lock.run(() => new Promise<void>((resolve) => release = resolve));
  const waiting = [
    handler.handle(peer, batch("2026-12-01")),
    handler.handle(peer, batch("2026-12-02")),
  ];
  await new Promise((resolve) => setTimeout(resolve, 50));
  expect(handler.queued).toBe(2);
  await expect(handler.handle(peer, batch("2026-12-03"))).rejects.toBeInstanceOf(SyncBusy);
  // A heartbeat of a document the server does not hold: nothing to store, answered at once.
  const [, empty] = A.generateSyncMessage(A.init(), A.initSyncState());
  const heartbeat = await handler.handle(peer, [{
    doc: usageDocId("c1", "2026-12-04"),
    msg: empty!,
  }]);
  expect(heartbeat.items).toEqual([]);
  release();
  await held;
  await Promise.all(waiting);
  const stored = await db.execute(
    "SELECT doc_id FROM docs WHERE doc_id LIKE 'usage/c1/%' ORDER BY 1",
  );
  expect(stored.rows.map((r) => r.doc_id)).toEqual([
    usageDocId("c1", "2026-12-01"),
    usageDocId("c1", "2026-12-02"),
  ]);
});

test("a batch that only reads, from heads the site knows, is answered while the writes are held", async () => {
  const docs = new DocStore(db);
  const cache = new DocCache(docs, 100);
  const lock = new Mutex();
  const handler = new SyncHandler({
    db,
    docs,
    states: new SyncStateStore(db),
    cache,
    lock,
    materialize: () => [],
    maxQueued: 1,
  });
  // The site's rules: a replica the agent got, then two changes it has not.
  const docId = rulesDocId("S01");
  let rules = A.change(A.init<Record<string, string>>(), (d) => {
    d.r1 = "first";
  });
  let replica = A.clone(rules);
  rules = A.change(rules, (d) => {
    d.r2 = "second";
  });
  rules = A.change(rules, (d) => {
    d.r3 = "third";
  });
  const save = docs.prepareSave(docId, rules, undefined);
  await db.batch(save.statements, "write");
  cache.set(docId, { doc: rules, info: save.info });
  const reader: SyncPeer = {
    id: "client:c2",
    actors: new Set(),
    read: [docId],
    access: () => "read",
  };
  // The agent's message, primed from the heads it shares, as the real client sends.
  const primed = A.initSyncState() as A.SyncState & { sharedHeads: A.Heads };
  primed.sharedHeads = A.getHeads(replica);
  let [state, msg] = A.generateSyncMessage(replica, primeSyncState(primed));
  let release = () => {};
  const held = lock.run(() => new Promise<void>((resolve) => release = resolve));
  const answered = await Promise.race([
    handler.handle(reader, [{ doc: docId, msg: msg! }]),
    new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 2_000)),
  ]);
  release();
  await held;
  expect(answered, "answered while the write lock was held").toBeDefined();
  [replica, state] = A.receiveSyncMessage(replica, state, answered!.items[0].msg);
  expect(replica).toEqual({ r1: "first", r2: "second", r3: "third" });
  // The agent's next round carries no change: a heartbeat, answered with nothing.
  [, msg] = A.generateSyncMessage(replica, state);
  expect(A.decodeSyncMessage(msg!).changes).toEqual([]);
  expect((await handler.handle(reader, [{ doc: docId, msg: msg! }])).items).toEqual([]);
  // Nothing was written for it: no sync state stored.
  const states = await db.execute("SELECT count(*) AS n FROM sync_states WHERE peer = 'client:c2'");
  expect(states.rows[0].n).toBe(0);
});

test("a group past its time budget is stored as it is, the rest in the next group", async () => {
  const docs = new DocStore(db);
  const actor = crypto.randomUUID().replaceAll("-", "");
  const peer: SyncPeer = {
    id: "client:c3",
    actors: new Set([actor]),
    read: [],
    access: () => "write",
  };
  const transactions = async (groupBudgetMs: number, days: string[]) => {
    let batches = 0;
    // The handler's connection, counting its transactions.
    const counted = new Proxy(db, {
      get(target, key) {
        if (key === "batch") {
          return (...args: Parameters<Client["batch"]>) => (batches++, target.batch(...args));
        }
        const value = Reflect.get(target, key);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const lock = new Mutex();
    const handler = new SyncHandler({
      db: counted,
      docs,
      states: new SyncStateStore(db),
      cache: new DocCache(docs, 100),
      lock,
      materialize: () => [],
      groupBudgetMs,
    });
    let release = () => {};
    const held = lock.run(() => new Promise<void>((resolve) => release = resolve));
    const answers = days.map((day) => {
      const doc = A.change(newRecordDoc(actor), (d) => {
        d.x = new Uint8Array([1]);
      });
      return handler.handle(peer, [itemFor(usageDocId("c3", day), doc)]);
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(handler.queued).toBe(days.length);
    release();
    await held;
    await Promise.all(answers);
    return batches;
  };
  // Without a budget the three wait for the lock and are stored together; with none left after
  // the first batch, each group stores one. Every batch is stored either way.
  expect(await transactions(Infinity, ["2026-11-01", "2026-11-02", "2026-11-03"])).toBe(1);
  expect(await transactions(0, ["2026-11-04", "2026-11-05", "2026-11-06"])).toBe(3);
  const stored = await db.execute(
    "SELECT count(*) AS n FROM docs WHERE doc_id LIKE 'usage/c3/%'",
  );
  expect(stored.rows[0].n).toBe(6);
});
