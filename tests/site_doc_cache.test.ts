/**
 * The site's hot document cache is bounded by documents and by their stored
 * bytes: a cached document costs tens of times its stored size in memory,
 * so a few large documents evict the least recently used ones, and the
 * cache's byte count follows every insert, replacement and eviction. A
 * large site's cache admits a document only when it is used again soon.
 */
import * as A from "@automerge/automerge";
import { describe, expect, test } from "vitest";
import { DocCache } from "../store/doc_cache.ts";
import { openDatabase } from "../store/db.ts";
import { DocStore, docStoreSchema } from "../store/doc_store.ts";

async function storeDocs(docs: DocStore, db: Awaited<ReturnType<typeof openDatabase>>, n: number) {
  for (let i = 0; i < n; i++) {
    const doc = A.change(A.init<Record<string, string>>(), (d) => {
      d.text = `${i}`.repeat(2_000 + i); // random enough not to compress away
      d.noise = crypto.randomUUID().repeat(40);
    });
    await db.batch(docs.prepareSave(`rules/S0${i}`, doc, undefined).statements, "write");
  }
}

describe("hot document cache", () => {
  test("evicts the least recently used documents past its byte budget", async () => {
    const db = await openDatabase(":memory:", docStoreSchema);
    const docs = new DocStore(db);
    await storeDocs(docs, db, 4);
    const sizes = await Promise.all(
      [0, 1, 2, 3].map(async (i) => (await docs.info(`rules/S0${i}`))!.bytes),
    );
    const budget = sizes[0] + sizes[1] + sizes[2]; // room for three of the four
    const cache = new DocCache(docs, 100, undefined, budget);
    for (const i of [0, 1, 2]) await cache.get(`rules/S0${i}`);
    expect(cache.size).toBe(3);
    expect(cache.bytes).toBe(budget);
    await cache.get("rules/S00"); // now the most recently used
    await cache.get("rules/S03"); // over budget: S01, the least recently used, goes first
    expect(cache.peek("rules/S01")).toBeUndefined();
    expect(cache.peek("rules/S00")).toBeDefined();
    expect(cache.peek("rules/S03")).toBeDefined();
    const kept = [0, 2, 3].filter((i) => cache.peek(`rules/S0${i}`));
    expect(cache.bytes).toBe(kept.reduce((sum, i) => sum + sizes[i], 0));
    expect(cache.bytes).toBeLessThanOrEqual(budget);
    cache.delete("rules/S03");
    expect(cache.bytes).toBe(kept.filter((i) => i !== 3).reduce((sum, i) => sum + sizes[i], 0));
    db.close();
  });

  test("one document larger than the budget is still kept alone", async () => {
    const db = await openDatabase(":memory:", docStoreSchema);
    const docs = new DocStore(db);
    await storeDocs(docs, db, 2);
    const cache = new DocCache(docs, 100, undefined, 10);
    await cache.get("rules/S00");
    await cache.get("rules/S01");
    expect(cache.size).toBe(1);
    expect(cache.peek("rules/S01")).toBeDefined();
    db.close();
  });

  test("frees the documents that left it, not those back in it", async () => {
    const db = await openDatabase(":memory:", docStoreSchema);
    const docs = new DocStore(db);
    await storeDocs(docs, db, 3);
    const cache = new DocCache(docs, 2);
    const first = (await cache.get("rules/S00"))!;
    const second = (await cache.get("rules/S01"))!;
    // A newer version of a cached document replaces it and shares its memory.
    const changed = A.change(second.doc as A.Doc<Record<string, string>>, (d) => {
      d.more = "x";
    });
    cache.set("rules/S01", { doc: changed, info: second.info });
    await cache.get("rules/S02"); // over the count: S00 leaves
    expect(cache.freeReleased()).toBe(1);
    expect(() => A.getHeads(first.doc)).toThrow();
    expect(A.getHeads(changed)).toHaveLength(1); // still usable
    expect(cache.freeReleased()).toBe(0);
    db.close();
  });

  test("admitting on reuse, a document enters only when used again soon, and the rest are freed", async () => {
    const db = await openDatabase(":memory:", docStoreSchema);
    const docs = new DocStore(db);
    await storeDocs(docs, db, 5);
    const cache = new DocCache(docs, 100, undefined, 1e9, { admitOnReuseWithin: 2 });
    expect(cache.size).toBe(0);
    // First use: loaded, not kept, freed once its user is done.
    const once = (await cache.get("rules/S00"))!;
    expect(cache.peek("rules/S00")).toBeUndefined();
    expect(cache.freeReleased()).toBe(1);
    expect(() => A.getHeads(once.doc)).toThrow();
    // Used again among the last two: kept.
    await cache.get("rules/S00");
    expect(cache.peek("rules/S00")).toBeDefined();
    // Stored anew by a sync that loaded it: one use, not two, so still not kept.
    const loaded = (await cache.get("rules/S01"))!;
    const changed = A.change(loaded.doc as A.Doc<Record<string, string>>, (d) => {
      d.more = "x";
    });
    cache.update("rules/S01", { doc: changed, info: loaded.info });
    expect(cache.peek("rules/S01")).toBeUndefined();
    await cache.get("rules/S01"); // used again at once: kept now
    expect(cache.peek("rules/S01")).toBeDefined();
    // Two others used since S02's first use: too long ago, so its second use is a first.
    await cache.get("rules/S02");
    await cache.get("rules/S03");
    await cache.get("rules/S04");
    await cache.get("rules/S02");
    expect(cache.peek("rules/S02")).toBeUndefined();
    await cache.get("rules/S04"); // within two: kept
    expect(cache.peek("rules/S04")).toBeDefined();
    // A cached document's new version replaces it.
    const cached = cache.peek("rules/S00")!;
    cache.update("rules/S00", { doc: A.clone(cached.doc), info: cached.info });
    expect(cache.peek("rules/S00")!.doc).not.toBe(cached.doc);
    cache.freeReleased();
    db.close();
  });
});
