/**
 * `RecentMap` keeps its most recently used entries: a read or a write makes
 * an entry the most recent, and past its limit the least recent goes.
 */
import { expect, test } from "vitest";
import { RecentMap } from "../lib/recent_map.ts";

test("past its limit the least recently read or written entry goes", () => {
  const map = new RecentMap<string, number>(2);
  map.set("a", 1);
  map.set("b", 2);
  expect(map.get("a")).toBe(1); // now b is the least recent
  map.set("c", 3);
  expect(map.size).toBe(2);
  expect(map.get("b")).toBeUndefined();
  expect(map.get("a")).toBe(1);
  map.set("c", 4); // written again: now a is the least recent
  map.set("d", 5);
  expect(map.get("a")).toBeUndefined();
  expect([map.get("c"), map.get("d")]).toEqual([4, 5]);
  expect(map.delete("c")).toBe(true);
  expect(map.delete("c")).toBe(false);
  expect(map.size).toBe(1);
});
