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
  const buckets = new Map<string, { ruleId: string; hour: number; sessions: SummarySession[] }>();
  for (const session of sessions) {
    const end = endOf(session, now);
    // A session of zero length still ran: it counts in the hour it started.
    for (
      let hour = hourFloor(session.start);
      hour < end || hour === hourFloor(session.start);
      hour += HOUR_MS
    ) {
      if (!hours.has(hour)) continue;
      const key = `${session.ruleId}\u0000${hour}`;
      let bucket = buckets.get(key);
      if (!bucket) buckets.set(key, bucket = { ruleId: session.ruleId, hour, sessions: [] });
      bucket.sessions.push(session);
    }
  }
  return [...buckets.values()].map((b) => figuresOf(b.ruleId, b.hour, b.sessions, now));
}

function figuresOf(
  ruleId: string,
  hour: number,
  sessions: SummarySession[],
  now: number,
): HourFigures {
  const hourEnd = hour + HOUR_MS;
  const pairs = new Set<string>();
  const users = new Set<string>();
  const computers = new Set<string>();
  let runs = 0, runMs = 0, remoteRuns = 0, remoteRunMs = 0;
  for (const s of sessions) {
    const overlap = Math.min(endOf(s, now), hourEnd) - Math.max(s.start, hour);
    const startedHere = s.start >= hour && s.start < hourEnd;
    pairs.add(`${s.user}\u0000${s.clientId}`);
    users.add(s.user);
    computers.add(s.clientId);
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
    ...peaks(sessions, hour, now),
    remoteRuns,
    remoteRunMs,
  };
}

/**
 * The sweep: every session is an interval clipped to the hour; at equal
 * instants ends come before starts, so a run that ends as another starts is
 * not concurrent with it. Zero-length sessions count at their instant, with
 * the sessions running then and with each other.
 */
function peaks(sessions: SummarySession[], hour: number, now: number) {
  const hourEnd = hour + HOUR_MS;
  const events: [at: number, delta: number, user: string][] = [];
  for (const s of sessions) {
    const from = Math.max(s.start, hour);
    const to = Math.min(endOf(s, now), hourEnd);
    if (to > from) events.push([from, 1, s.user], [to, -1, s.user]);
    else events.push([from, 0, s.user]);
  }
  // At one instant: ends, then starts, then zero-length runs (which see both).
  const rank = (delta: number) => delta === -1 ? 0 : delta === 1 ? 1 : 2;
  events.sort((a, b) => a[0] - b[0] || rank(a[1]) - rank(b[1]));
  const perUser = new Map<string, number>();
  let sessionsNow = 0, usersNow = 0;
  let peakSessions = 0, peakSessionsAt = hour, peakUsers = 0, peakUsersAt = hour;
  const note = (at: number, sessions: number, users: number) => {
    if (sessions > peakSessions) [peakSessions, peakSessionsAt] = [sessions, at];
    if (users > peakUsers) [peakUsers, peakUsersAt] = [users, at];
  };
  for (let i = 0; i < events.length; i++) {
    const [at, delta, user] = events[i];
    if (delta === 0) {
      // The zero-length runs of this instant, all together (they sort last in it).
      const instant = new Set<string>();
      let count = 0;
      for (; i < events.length && events[i][0] === at; i++, count++) {
        if ((perUser.get(events[i][2]) ?? 0) === 0) instant.add(events[i][2]);
      }
      i--;
      note(at, sessionsNow + count, usersNow + instant.size);
      continue;
    }
    sessionsNow += delta;
    const before = perUser.get(user) ?? 0;
    perUser.set(user, before + delta);
    if (before === 0 && delta > 0) usersNow++;
    if (before === 1 && delta < 0) usersNow--;
    note(at, sessionsNow, usersNow);
  }
  return { peakSessions, peakSessionsAt, peakUsers, peakUsersAt };
}
