/**
 * The hourly figures of one rule in one UTC hour, from the sessions that
 * overlap it: distinct user/computer pairs, runs, run time, remote runs and
 * time, and the exact peaks of concurrent sessions and of concurrent
 * distinct users, found by a sweep over the session intervals.
 *
 * @module
 */
import { endOf, HOUR_MS, hourFloor, type SummarySession } from "./summary_session.ts";

export interface HourFigures {
  ruleId: string;
  hour: number;
  pairs: number;
  users: number;
  computers: number;
  runs: number;
  runMs: number;
  peakSessions: number;
  peakSessionsAt: number;
  peakUsers: number;
  peakUsersAt: number;
  remoteRuns: number;
  remoteRunMs: number;
}

/**
 * The figures of every (rule, hour) among `hours` that some session
 * overlaps. Sessions still running count up to `now`.
 */
export function hourFigures(
  sessions: Iterable<SummarySession>,
  hours: ReadonlySet<number>,
  now: number,
): HourFigures[] {
  const all = [...sessions];
  // Each session's end, worked out once rather than in every hour it spans.
  const ends = new Float64Array(all.length);
  // Buckets hold indexes into `all`, by rule, then by hour.
  const byRule = new Map<string, Map<number, number[]>>();
  all.forEach((session, i) => {
    const end = ends[i] = endOf(session, now);
    let ofRule = byRule.get(session.ruleId);
    if (!ofRule) byRule.set(session.ruleId, ofRule = new Map());
    // A session of zero length still ran: it counts in the hour it started.
    const first = hourFloor(session.start);
    for (let hour = first; hour < end || hour === first; hour += HOUR_MS) {
      if (!hours.has(hour)) continue;
      const bucket = ofRule.get(hour);
      if (bucket) bucket.push(i);
      else ofRule.set(hour, [i]);
    }
  });
  const figures: HourFigures[] = [];
  for (const [ruleId, ofRule] of byRule) {
    for (const [hour, bucket] of ofRule) {
      figures.push(figuresOf(ruleId, hour, { all, ends, bucket }));
    }
  }
  return figures;
}

/** One (rule, hour)'s sessions: indexes into every session read, with their ends. */
interface Bucket {
  all: SummarySession[];
  ends: Float64Array;
  bucket: number[];
}

/**
 * A (user, computer) pair as one number. Keys are row ids of
 * `session_users` and `session_clients`, far below 2^26 (67 million), so
 * the pair stays an exact integer.
 */
const pairOf = (s: SummarySession) => s.userKey * 2 ** 26 + s.clientKey;

function figuresOf(ruleId: string, hour: number, { all, ends, bucket }: Bucket): HourFigures {
  const hourEnd = hour + HOUR_MS;
  // Counted by key, not name: sets of numbers cost a fraction of sets of strings.
  const pairs = new Set<number>();
  const users = new Set<number>();
  const computers = new Set<number>();
  let runs = 0, runMs = 0, remoteRuns = 0, remoteRunMs = 0;
  for (const i of bucket) {
    const s = all[i];
    const overlap = Math.min(ends[i], hourEnd) - Math.max(s.start, hour);
    const startedHere = s.start >= hour && s.start < hourEnd;
    pairs.add(pairOf(s));
    users.add(s.userKey);
    computers.add(s.clientKey);
    runs += startedHere ? 1 : 0;
    runMs += Math.max(0, overlap);
    if (s.remote) {
      remoteRuns += startedHere ? 1 : 0;
      remoteRunMs += Math.max(0, overlap);
    }
  }
  return {
    ruleId,
    hour,
    pairs: pairs.size,
    users: users.size,
    computers: computers.size,
    runs,
    runMs,
    ...peaks(hour, { all, ends, bucket }),
    remoteRuns,
    remoteRunMs,
  };
}

/** At one instant: ends, then starts, then zero-length runs (which see both). */
const END = 0, START = 1, INSTANT = 2;
/** Events per hour stay below this many; an event's index is its sort key modulo it. */
const EVENT_INDEXES = 2 ** 28;

/**
 * The sweep: every session is an interval clipped to the hour; at equal
 * instants ends come before starts, so a run that ends as another starts is
 * not concurrent with it. Zero-length sessions count at their instant, with
 * the sessions running then and with each other.
 *
 * Each event is one number, (offset in the hour, kind, index), so the
 * events sort as a typed array, without a comparison function: the sort was
 * most of the sweep.
 */
function peaks(hour: number, { all, ends, bucket }: Bucket) {
  const hourEnd = hour + HOUR_MS;
  const keys = new Float64Array(bucket.length * 2);
  let count = 0;
  const event = (at: number, kind: number, index: number) =>
    keys[count++] = ((at - hour) * 4 + kind) * EVENT_INDEXES + index;
  bucket.forEach((i, index) => {
    const from = Math.max(all[i].start, hour);
    const to = Math.min(ends[i], hourEnd);
    if (to > from) {
      event(from, START, index);
      event(to, END, index);
    } else event(from, INSTANT, index);
  });
  const sorted = keys.subarray(0, count).sort();
  const userOf = (key: number) => all[bucket[decode(key, hour).index]].userKey;
  const perUser = new Map<number, number>();
  let sessionsNow = 0, usersNow = 0;
  let peakSessions = 0, peakSessionsAt = hour, peakUsers = 0, peakUsersAt = hour;
  const note = (at: number, sessions: number, users: number) => {
    if (sessions > peakSessions) [peakSessions, peakSessionsAt] = [sessions, at];
    if (users > peakUsers) [peakUsers, peakUsersAt] = [users, at];
  };
  for (let i = 0; i < sorted.length; i++) {
    const { at, kind } = decode(sorted[i], hour);
    if (kind === INSTANT) {
      // The zero-length runs of this instant, all together (they sort last in it).
      const instant = new Set<number>();
      let runs = 0;
      for (; i < sorted.length && decode(sorted[i], hour).at === at; i++, runs++) {
        const user = userOf(sorted[i]);
        if ((perUser.get(user) ?? 0) === 0) instant.add(user);
      }
      i--;
      note(at, sessionsNow + runs, usersNow + instant.size);
      continue;
    }
    const user = userOf(sorted[i]);
    const delta = kind === START ? 1 : -1;
    sessionsNow += delta;
    const before = perUser.get(user) ?? 0;
    perUser.set(user, before + delta);
    if (before === 0 && delta > 0) usersNow++;
    if (before === 1 && delta < 0) usersNow--;
    note(at, sessionsNow, usersNow);
  }
  return { peakSessions, peakSessionsAt, peakUsers, peakUsersAt };
}

/** An event's instant, kind and index in its bucket, from its sort key. */
function decode(key: number, hour: number) {
  const index = key % EVENT_INDEXES;
  const rest = (key - index) / EVENT_INDEXES;
  const kind = rest % 4;
  return { at: hour + (rest - kind) / 4, kind, index };
}
