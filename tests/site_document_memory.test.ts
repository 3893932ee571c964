/**
 * The site gives back memory held by objects it no longer references (the
 * WebAssembly memory of evicted Automerge documents is freed only when V8
 * collects their owners): once documents were loaded, the periodic task
 * runs a full collection, and unreferenced garbage is gone from the heap.
 */
import * as A from "@automerge/automerge";
import { expect, test } from "vitest";
import { releaseLoadedDocuments } from "../site/document_memory.ts";

test("a full collection follows documents being loaded", async () => {
  let loads = 0;
  const release = releaseLoadedDocuments(() => loads);
  let garbage: unknown[] = [];
  for (let i = 0; i < 200; i++) {
    garbage.push(A.change(A.init<{ text: string }>(), (d) => (d.text = "x".repeat(1_000))));
    garbage.push(new Array(10_000).fill({ i }));
  }
  loads += 200;
  garbage = [];
  const before = Deno.memoryUsage().heapUsed;
  await release();
  const after = Deno.memoryUsage().heapUsed;
  expect(garbage).toEqual([]);
  expect(before - after).toBeGreaterThan(5_000_000);
});
