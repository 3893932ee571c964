/**
 * The site gives back memory held by objects it no longer references (the
 * WebAssembly memory of evicted Automerge documents is freed only when V8
 * collects their owners): once documents were loaded and the heap grew past
 * an allowance, the periodic task runs a full collection, and
 * unreferenced garbage is gone from the heap; otherwise it leaves the site
 * alone, since a full collection holds everything else up.
 */
import * as A from "@automerge/automerge";
import { expect, test } from "vitest";
import { releaseLoadedDocuments } from "../site/document_memory.ts";

/** Garbage of documents and arrays, at least 16 MB of it. */
function makeGarbage(): number {
  let garbage: unknown[] = [];
  for (let i = 0; i < 200; i++) {
    garbage.push(A.change(A.init<{ text: string }>(), (d) => (d.text = "x".repeat(1_000))));
    garbage.push(new Array(10_000).fill({ i }));
  }
  const count = garbage.length;
  garbage = [];
  return count;
}

test("a full collection follows documents being loaded and the heap growing", async () => {
  let loads = 0;
  const held: number[] = [];
  const release = releaseLoadedDocuments({
    loads: () => loads,
    collected: (ms) => held.push(ms),
    growthBytes: 1024 * 1024,
  });
  loads += makeGarbage();
  const before = Deno.memoryUsage().heapUsed;
  await release();
  const after = Deno.memoryUsage().heapUsed;
  expect(held).toHaveLength(1);
  expect(before - after).toBeGreaterThan(5_000_000);
});

test("no collection while the heap stays within its allowance, or nothing was loaded", async () => {
  let loads = 0;
  const held: number[] = [];
  const within = releaseLoadedDocuments({
    loads: () => loads,
    collected: (ms) => held.push(ms),
    growthBytes: 2 ** 40,
  });
  loads += makeGarbage();
  await within();
  const idle = releaseLoadedDocuments({
    loads: () => 0,
    collected: (ms) => held.push(ms),
    growthBytes: 1,
  });
  makeGarbage();
  await idle();
  expect(held).toEqual([]);
});
