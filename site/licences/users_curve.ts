/**
 * How many distinct users run a licence's programs at each instant: a step
 * function, kept as its change points `[at, users]` (the count from `at`
 * until the next point). A concurrent licence is consumed by the peak of
 * this curve.
 *
 * Each user's runs are merged into the union of their intervals first, so
 * one user with three windows of two programs of the pool counts once. A run
 * of no length counts for its instant, as the hourly peaks count it: it is
 * taken as lasting one millisecond, which with whole milliseconds is the same.
 * Intervals are half-open, so a run that ends as another starts is not
 * concurrent with it.
 *
 * Curves of different sites add up point by point (`sumCurves`): their
 * users are different people as far as the sites can tell, the way a
 * user's time zones count apart in the time-of-day report. So the peak of a
 * subtree is exact, where the sum of the sites' peaks would only bound it.
 *
 * @module
 */

/** Change points, in time order: from `at`, `users` run at once. */
export type Curve = [at: number, users: number][];

export interface Run {
  user: string;
  start: number;
  /** null: still running, counted up to `now`. */
  end: number | null;
}

/** The curve of `runs` within `[from, to)`. */
export function usersCurve(runs: Iterable<Run>, from: number, to: number, now: number): Curve {
  const byUser = new Map<string, [number, number][]>();
  for (const run of runs) {
    const start = Math.max(run.start, from);
    const end = Math.min(Math.max(run.end ?? now, run.start + 1), to);
    if (end <= start) continue;
    let list = byUser.get(run.user);
    if (!list) byUser.set(run.user, list = []);
    list.push([start, end]);
  }
  const events: [number, number][] = [];
  for (const intervals of byUser.values()) {
    for (const [start, end] of union(intervals)) events.push([start, 1], [end, -1]);
  }
  return stepsOf(events);
}

/** The union of intervals, as disjoint intervals in order (touching ones joined). */
function union(intervals: [number, number][]): [number, number][] {
  intervals.sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const [start, end] of intervals) {
    const last = merged.at(-1);
    if (last && start <= last[1]) last[1] = Math.max(last[1], end);
    else merged.push([start, end]);
  }
  return merged;
}

/** Change points from `[at, delta]` events: all deltas of one instant apply together. */
function stepsOf(events: [number, number][]): Curve {
  events.sort((a, b) => a[0] - b[0]);
  const curve: Curve = [];
  let users = 0;
  for (let i = 0; i < events.length;) {
    const at = events[i][0];
    for (; i < events.length && events[i][0] === at; i++) users += events[i][1];
    if (curve.at(-1)?.[1] !== users) curve.push([at, users]);
  }
  return curve;
}

/** The curve of the sum of `curves`. */
export function sumCurves(curves: readonly Curve[]): Curve {
  const events: [number, number][] = [];
  for (const curve of curves) {
    let before = 0;
    for (const [at, users] of curve) {
      events.push([at, users - before]);
      before = users;
    }
  }
  return stepsOf(events);
}

/** The highest count and the first instant it is reached; 0 at `null` for an empty curve. */
export function peakOf(curve: Curve): { users: number; at: number | null } {
  let users = 0, at: number | null = null;
  for (const [when, count] of curve) {
    if (count > users) [users, at] = [count, when];
  }
  return { users, at };
}

/** A curve as a flat list `[at0, users0, at1, users1, ...]`, times relative to `origin`. */
export function flatCurve(curve: Curve, origin: number): number[] {
  return curve.flatMap(([at, users]) => [at - origin, users]);
}

/** A flat list back into a curve. */
export function curveOfFlat(flat: readonly number[], origin: number): Curve {
  const curve: Curve = [];
  for (let i = 0; i + 1 < flat.length; i += 2) curve.push([flat[i] + origin, flat[i + 1]]);
  return curve;
}
