/**
 * The curve of concurrent distinct users (`site/licences/users_curve.ts`),
 * checked against a brute-force count at every millisecond of small
 * generated days: one user's overlapping runs count once, a run that ends as
 * another starts is not concurrent with it, a run of no length counts at its
 * instant, and the sum of two sites' curves peaks where the two together do.
 */
import { describe, expect, test } from "vitest";
import {
  curveOfFlat,
  flatCurve,
  peakOf,
  type Run,
  sumCurves,
  usersCurve,
} from "../site/licences/users_curve.ts";
import { SeededRandom } from "../lib/seeded_random.ts";

const FROM = 1_000, TO = 1_200;

/** Distinct users running at `t` (a run of no length lasts one millisecond). */
function usersAt(runs: Run[], t: number, now: number): number {
  return new Set(
    runs.filter((r) => r.start <= t && t < Math.max(r.end ?? now, r.start + 1)).map((r) => r.user),
  ).size;
}

/** The curve's value at `t`. */
function valueAt(curve: [number, number][], t: number): number {
  let value = 0;
  for (const [at, users] of curve) if (at <= t) value = users;
  return value;
}

describe("the curve of concurrent users", () => {
  test("matches a count at every millisecond, on generated runs", () => {
    const seeded = new SeededRandom(7);
    const random = () => seeded.next();
    for (let round = 0; round < 50; round++) {
      const runs: Run[] = Array.from({ length: 12 }, () => {
        const start = FROM - 20 + Math.floor(random() * 240);
        const length = random() < 0.2 ? 0 : Math.floor(random() * 60);
        return {
          user: `u${Math.floor(random() * 4)}`,
          start,
          end: random() < 0.1 ? null : start + length,
        };
      });
      const now = 1_150;
      const curve = usersCurve(runs, FROM, TO, now);
      for (let t = FROM; t < TO; t++) {
        expect(valueAt(curve, t), `t=${t}`).toBe(usersAt(runs, t, now));
      }
      expect(curveOfFlat(flatCurve(curve, FROM), FROM)).toEqual(curve);
    }
  });

  test("one user twice at once is one; back to back is never two", () => {
    const curve = usersCurve(
      [
        { user: "ann", start: 1_000, end: 1_050 },
        { user: "ann", start: 1_010, end: 1_020 },
        { user: "bob", start: 1_050, end: 1_060 },
      ],
      FROM,
      TO,
      TO,
    );
    expect(peakOf(curve)).toEqual({ users: 1, at: 1_000 });
  });

  test("a run of no length counts with those running at its instant", () => {
    const curve = usersCurve(
      [
        { user: "ann", start: 1_000, end: 1_050 },
        { user: "bob", start: 1_020, end: 1_020 },
      ],
      FROM,
      TO,
      TO,
    );
    expect(peakOf(curve)).toEqual({ users: 2, at: 1_020 });
  });

  test("two sites' curves add up instant by instant, not peak by peak", () => {
    const a = usersCurve(
      [
        { user: "ann", start: 1_000, end: 1_030 },
        { user: "bob", start: 1_000, end: 1_030 },
      ],
      FROM,
      TO,
      TO,
    );
    const b = usersCurve(
      [
        { user: "ann", start: 1_010, end: 1_020 },
        { user: "cat", start: 1_100, end: 1_130 },
        { user: "dan", start: 1_100, end: 1_130 },
      ],
      FROM,
      TO,
      TO,
    );
    expect(peakOf(a).users + peakOf(b).users).toBe(4);
    expect(peakOf(sumCurves([a, b]))).toEqual({ users: 3, at: 1_010 });
  });
});
