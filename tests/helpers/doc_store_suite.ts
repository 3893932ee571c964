/**
 * A conformance suite for {@linkcode DocStore}, in the manner of
 * automerge-repo's storage adapter tests: call {@linkcode runDocStoreSuite}
 * with a function that opens a fresh, empty database, and every behaviour the
 * sync client and the site rely on is checked against it.
 *
 * @module
 */
import * as A from "@automerge/automerge";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import type { Client } from "../../store/db.ts";
import { DocStore } from "../../store/doc_store.ts";

type Records = Record<string, Uint8Array | string | number>;

const ACTOR_A = "aa".repeat(16);
const ACTOR_B = "bb".repeat(16);

/** A new document with `n` records, made by `actor`. */
export function makeDoc(actor: string, n: number, prefix = "k"): A.Doc<Records> {
  return A.change(A.init<Records>({ actor }), (d) => {
    for (let i = 0; i < n; i++) d[`${prefix}${i}`] = new Uint8Array([i % 256, 1, 2, 3]);
  });
}

/** The document as plain data, for comparison. */
function plain(doc: A.Doc<unknown>): unknown {
  return A.toJS(doc);
}

const sorted = (heads: readonly string[]) => [...heads].sort();

async function chunkRows(db: Client, docId: string): Promise<{ n: number; bytes: number }> {
  const result = await db.execute({
    sql: "SELECT count(*) AS n, coalesce(sum(length(bytes)), 0) AS bytes FROM doc_chunks " +
      "WHERE doc_id = ?",
    args: [docId],
  });
  return { n: result.rows[0].n as number, bytes: result.rows[0].bytes as number };
}

/**
 * Registers the suite under `describe(name)`. `makeDb` opens a fresh database
 * that already has the document store schema; the suite closes it after each
 * test.
 */
export function runDocStoreSuite(name: string, makeDb: () => Promise<Client>): void {
  describe(`DocStore conformance: ${name}`, () => {
    let db: Client;
    let store: DocStore;

    beforeEach(async () => {
      db = await makeDb();
      store = new DocStore(db);
    });

    afterEach(() => {
      db.close();
    });

    test("an unknown document has no info and loads as undefined", async () => {
      expect(await store.load("usage/abcd/2026-01-01")).toBeUndefined();
      expect(await store.info("usage/abcd/2026-01-01")).toBeUndefined();
      expect(await store.list()).toEqual([]);
    });

    test("save then load gives back the same document, heads and records", async () => {
      const doc = makeDoc(ACTOR_A, 25);
      await store.save("usage/abcd/2026-01-01", doc);
      const loaded = await store.load<Records>("usage/abcd/2026-01-01");
      expect(loaded).toBeDefined();
      expect(plain(loaded!)).toEqual(plain(doc));
      expect(sorted(A.getHeads(loaded!))).toEqual(sorted(A.getHeads(doc)));
      expect(loaded!.k7).toEqual(new Uint8Array([7, 1, 2, 3]));
      const info = await store.info("usage/abcd/2026-01-01");
      expect(info).toMatchObject({ docId: "usage/abcd/2026-01-01", chunks: 1 });
      expect(info!.bytes).toBe(A.save(doc).length);
      expect((await chunkRows(db, "usage/abcd/2026-01-01")).bytes).toBe(info!.bytes);
    });

    test("load with an actor makes later changes carry that actor", async () => {
      await store.save("usage/abcd/2026-01-01", makeDoc(ACTOR_A, 1));
      const loaded = await store.load<Records>("usage/abcd/2026-01-01", ACTOR_A);
      expect(A.getActorId(loaded!)).toBe(ACTOR_A);
      const changed = A.change(loaded!, (d) => {
        d.extra = "x";
      });
      const [meta] = A.getChangesMetaSince(changed, A.getHeads(loaded!));
      expect(meta.actor).toBe(ACTOR_A);
    });

    test("a save prepared from a version stored no longer fails its transaction", async () => {
      const docId = "usage/abcd/2026-01-01";
      const first = makeDoc(ACTOR_A, 2);
      await store.save(docId, first);
      const read = await store.info(docId);
      // Another writer stores a change after this one read the row.
      const theirs = A.change(A.clone(first), (d) => {
        d.theirs = "kept";
      });
      await store.save(docId, theirs);
      const ours = A.change(A.clone(first, { actor: ACTOR_B }), (d) => {
        d.ours = "late";
      });
      const stale = store.prepareSave(docId, ours, read);
      await expect(db.batch(stale.statements, "write")).rejects.toThrow(/NOT NULL/);
      expect(plain((await store.load(docId))!)).toEqual(plain(theirs));
      // Prepared again from what is stored now, it goes through and keeps both changes.
      const merged = A.merge(A.clone(theirs), ours);
      await db.batch(store.prepareSave(docId, merged, await store.info(docId)).statements, "write");
      expect(plain((await store.load(docId))!)).toMatchObject({ theirs: "kept", ours: "late" });
    });

    test("a save prepared before the document was deleted, or for a new one stored since, fails", async () => {
      const docId = "usage/abcd/2026-01-02";
      const doc = makeDoc(ACTOR_A, 2);
      await store.save(docId, doc);
      const read = await store.info(docId);
      await db.batch(store.deleteStatements(docId), "write");
      const next = A.change(A.clone(doc), (d) => {
        d.more = "x";
      });
      await expect(db.batch(store.prepareSave(docId, next, read).statements, "write")).rejects
        .toThrow(/NOT NULL/);
      expect(await store.info(docId)).toBeUndefined();
      expect(await chunkRows(db, docId)).toEqual({ n: 0, bytes: 0 });

      await store.save(docId, doc);
      await expect(db.batch(store.prepareSave(docId, next, undefined).statements, "write"))
        .rejects.toThrow(/UNIQUE/);
      expect(plain((await store.load(docId))!)).toEqual(plain(doc));
    });

    test("an empty document round-trips", async () => {
      const doc = A.init<Records>();
      await store.save("inventory/abcd", doc);
      const info = await store.info("inventory/abcd");
      expect(info?.heads).toEqual([]);
      const loaded = await store.load<Records>("inventory/abcd");
      expect(loaded).toBeDefined();
      expect(plain(loaded!)).toEqual({});
    });

    test("changes are stored as small incremental chunks, compacted after N", async () => {
      const compacting = new DocStore(db, { compactAfterChunks: 4 });
      const docId = "usage/abcd/2026-01-01";
      let doc = makeDoc(ACTOR_A, 200);
      await compacting.save(docId, doc);
      const counts: number[] = [(await compacting.info(docId))!.chunks];
      const incrementSizes: number[] = [];
      for (let i = 0; i < 5; i++) {
        const before = (await compacting.info(docId))!;
        doc = A.change(doc, (d) => {
          d[`new${i}`] = new Uint8Array([i]);
        });
        await compacting.save(docId, doc);
        const info = (await compacting.info(docId))!;
        counts.push(info.chunks);
        if (info.chunks > 1) incrementSizes.push(info.bytes - before.bytes);
        // What info says is what the table holds.
        const rows = await chunkRows(db, docId);
        expect(rows.n).toBe(info.chunks);
        expect(rows.bytes).toBe(info.bytes);
        expect(sorted(info.heads)).toEqual(sorted(A.getHeads(doc)));
        const loaded = await compacting.load<Records>(docId);
        expect(plain(loaded!)).toEqual(plain(doc));
      }
      // 1 snapshot, +2 increments, then the 4th chunk would be one too many:
      // rewritten as one snapshot, and counting starts again.
      expect(counts).toEqual([1, 2, 3, 1, 2, 3]);
      // An increment costs bytes in proportion to the change, not the document.
      const full = A.save(doc).length;
      for (const size of incrementSizes) expect(size).toBeLessThan(full / 10);
    });

    test("prepareSave returns no statements when the heads are unchanged", async () => {
      const docId = "usage/abcd/2026-01-01";
      const doc = makeDoc(ACTOR_A, 3);
      const first = store.prepareSave(docId, doc, undefined, 1_000);
      expect(first.statements.length).toBeGreaterThan(0);
      // Preparing stores nothing by itself.
      expect(await store.info(docId)).toBeUndefined();
      await db.batch(first.statements, "write");
      const stored = await store.info(docId);
      expect(stored).toEqual(first.info);

      const again = store.prepareSave(docId, A.clone(doc), stored, 2_000);
      expect(again.statements).toEqual([]);
      expect(again.info).toEqual(stored);
      await store.save(docId, doc);
      expect((await store.info(docId))!.updatedAt).toBe(1_000);
    });

    test("info heads match A.getHeads, also with two concurrent heads", async () => {
      const docId = "usage/abcd/2026-01-01";
      const base = makeDoc(ACTOR_A, 2);
      const left = A.change(A.clone(base, { actor: ACTOR_A }), (d) => {
        d.left = "l";
      });
      const right = A.change(A.clone(base, { actor: ACTOR_B }), (d) => {
        d.right = "r";
      });
      const merged = A.merge(A.clone(left), right);
      expect(A.getHeads(merged)).toHaveLength(2);
      await store.save(docId, base);
      await store.save(docId, merged);
      const info = await store.info(docId);
      expect(sorted(info!.heads)).toEqual(sorted(A.getHeads(merged)));
      const listed = await store.list("usage/");
      expect(sorted(listed[0].heads)).toEqual(sorted(A.getHeads(merged)));
      const loaded = await store.load<Records>(docId);
      expect(plain(loaded!)).toEqual(plain(merged));
    });

    test("list(prefix) is ordered by id and takes only ids that start with the prefix", async () => {
      const ids = [
        "usage/abcd/2026-01-02",
        "usage/abcd/2026-01-01",
        "usage/abcde/2026-01-01",
        "usage/abc/2026-01-01",
        "rules/S01",
        "inventory/abcd",
        "usage/abcd/2025-12-31",
      ];
      for (const id of ids) await store.save(id, makeDoc(ACTOR_A, 1));
      const listIds = async (prefix?: string) => (await store.list(prefix)).map((i) => i.docId);
      expect(await listIds()).toEqual([...ids].sort());
      expect(await listIds("usage/abcd/")).toEqual([
        "usage/abcd/2025-12-31",
        "usage/abcd/2026-01-01",
        "usage/abcd/2026-01-02",
      ]);
      expect(await listIds("usage/abc/")).toEqual(["usage/abc/2026-01-01"]);
      expect(await listIds("usage/abcd")).toEqual([
        "usage/abcd/2025-12-31",
        "usage/abcd/2026-01-01",
        "usage/abcd/2026-01-02",
        "usage/abcde/2026-01-01",
      ]);
      // The prefix is literal text, not a LIKE pattern.
      expect(await listIds("usage/ab_d/")).toEqual([]);
      expect(await listIds("usage/ab%")).toEqual([]);
      expect(await listIds("summary/")).toEqual([]);
      expect(await listIds("rules/S01")).toEqual(["rules/S01"]);
    });

    test("delete removes the document and its chunks, and nothing else", async () => {
      const keep = makeDoc(ACTOR_A, 4, "keep");
      let gone = makeDoc(ACTOR_A, 4, "gone");
      await store.save("usage/abcd/2026-01-01", keep);
      await store.save("usage/abcd/2026-01-02", gone);
      gone = A.change(gone, (d) => {
        d.more = "m";
      });
      await store.save("usage/abcd/2026-01-02", gone);
      expect((await chunkRows(db, "usage/abcd/2026-01-02")).n).toBe(2);

      await db.batch(store.deleteStatements("usage/abcd/2026-01-02"), "write");
      expect(await store.load("usage/abcd/2026-01-02")).toBeUndefined();
      expect(await store.info("usage/abcd/2026-01-02")).toBeUndefined();
      expect((await chunkRows(db, "usage/abcd/2026-01-02")).n).toBe(0);
      expect((await store.list()).map((i) => i.docId)).toEqual(["usage/abcd/2026-01-01"]);
      expect(plain((await store.load("usage/abcd/2026-01-01"))!)).toEqual(plain(keep));

      // A deleted id can be used again from scratch.
      await store.save("usage/abcd/2026-01-02", makeDoc(ACTOR_B, 1));
      expect((await store.info("usage/abcd/2026-01-02"))!.chunks).toBe(1);
    });

    test("statements committed with a failing one leave the stored document as it was", async () => {
      const docId = "usage/abcd/2026-01-01";
      const v1 = makeDoc(ACTOR_A, 2);
      await store.save(docId, v1);
      const v2 = A.change(v1, (d) => {
        d.late = "l";
      });
      const { statements } = store.prepareSave(docId, v2, await store.info(docId));
      await expect(
        db.batch(
          [...statements, { sql: "INSERT INTO no_such_table VALUES (1)", args: [] }],
          "write",
        ),
      ).rejects.toThrow();
      expect(sorted((await store.info(docId))!.heads)).toEqual(sorted(A.getHeads(v1)));
      expect(plain((await store.load(docId))!)).toEqual(plain(v1));
      expect((await chunkRows(db, docId)).n).toBe(1);
    });
  });
}
