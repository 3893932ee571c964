/**
 * The buckets a set of changed sessions makes dirty: the hours they cover,
 * each with the rules to recount in it (every rule once any change came
 * without one), read in windows of contiguous hours; and the computers' days.
 * Nothing before the horizon is ever dirty.
 */
import { describe, expect, test } from "vitest";
import { DirtyBuckets } from "../site/summaries/dirty_buckets.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2026, 10, 20);

describe("dirty buckets", () => {
  test("an hour keeps the rules whose sessions touched it, a window their union", () => {
    const dirty = new DirtyBuckets(T0 - 30 * DAY);
    dirty.add("c1", T0 + 10 * 60_000, T0 + 70 * 60_000, "S01-1");
    dirty.add("c2", T0 + HOUR + 60_000, T0 + HOUR + 120_000, "S01-2");
    expect(dirty.hours).toEqual(
      new Map([[T0, new Set(["S01-1"])], [T0 + HOUR, new Set(["S01-1", "S01-2"])]]),
    );
    expect(dirty.hourWindows()).toEqual([
      {
        from: T0,
        to: T0 + 2 * HOUR,
        hours: new Set([T0, T0 + HOUR]),
        rules: new Set(["S01-1", "S01-2"]),
      },
    ]);
    expect(dirty.clientDays).toEqual(
      new Map([["c1", new Set(["2026-11-20"])], ["c2", new Set(["2026-11-20"])]]),
    );
  });

  test("a change without a rule makes its hours dirty for every rule, whatever comes after", () => {
    const dirty = new DirtyBuckets(T0 - 30 * DAY);
    dirty.add("c1", T0, T0 + 60_000, "S01-1");
    dirty.add("c1", T0, T0 + 60_000);
    dirty.add("c2", T0, T0 + 60_000, "S01-2");
    expect(dirty.hours.get(T0)).toBeNull();
    dirty.add("c2", T0 + HOUR, T0 + HOUR + 1, "S01-2");
    expect(dirty.hourWindows().map((w) => w.rules)).toEqual([null]);
  });

  test("windows hold at most the hours asked, and gaps start new ones", () => {
    const dirty = new DirtyBuckets(T0 - 30 * DAY);
    dirty.add("c1", T0, T0 + 3 * HOUR - 1, "S01-1");
    dirty.add("c1", T0 + 5 * HOUR, T0 + 5 * HOUR + 1, "S01-3");
    expect(dirty.hourWindows(2).map((w) => [w.from, w.to, [...(w.rules ?? [])]])).toEqual([
      [T0, T0 + 2 * HOUR, ["S01-1"]],
      [T0 + 2 * HOUR, T0 + 3 * HOUR, ["S01-1"]],
      [T0 + 5 * HOUR, T0 + 6 * HOUR, ["S01-3"]],
    ]);
  });

  test("nothing that ended before the horizon is dirty", () => {
    const dirty = new DirtyBuckets(T0);
    dirty.add("c1", T0 - 3 * DAY, T0 + 30 * 60_000, "S01-1");
    expect([...dirty.hours.keys()]).toEqual([T0]);
    expect(dirty.clientDays.get("c1")).toEqual(new Set(["2026-11-20"]));
  });
});
