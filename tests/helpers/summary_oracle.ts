/**
 * A deliberately simple, independent computation of what the summaries
 * should hold, for tests to compare with: brute force over instants and
 * minutes instead of the summariser's sweep and bucket arithmetic. Session
 * times must be whole minutes (so that a minute never straddles a local
 * hour) and closed (no running sessions).
 *
 * @module
 */

export interface OracleSession {
  client: string;
  rule: string;
  user: string;
  start: number;
  end: number;
  remote: boolean;
  timeZone: string;
}

const HOUR = 3_600_000;
const DAY = 86_400_000;
const MINUTE = 60_000;

export interface OracleHour {
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

/** Does the session run in `[from, to)`? A zero-length one, if its instant is in it. */
const runsIn = (s: OracleSession, from: number, to: number) =>
  s.end === s.start ? s.start >= from && s.start < to : s.start < to && s.end > from;

/** Is the session running at instant `t`? (A zero-length one at its instant.) */
const runsAt = (s: OracleSession, t: number) =>
  s.start === s.end ? s.start === t : s.start <= t && t < s.end;

export function oracleHours(sessions: OracleSession[]): Map<string, OracleHour> {
  const out = new Map<string, OracleHour>();
  const rules = new Set(sessions.map((s) => s.rule));
  const first = Math.floor(Math.min(...sessions.map((s) => s.start)) / HOUR) * HOUR;
  const last = Math.max(...sessions.map((s) => s.end));
  for (const rule of rules) {
    for (let h = first; h <= last; h += HOUR) {
      const active = sessions.filter((s) => s.rule === rule && runsIn(s, h, h + HOUR));
      if (active.length === 0) continue;
      const overlap = (s: OracleSession) =>
        Math.max(0, Math.min(s.end, h + HOUR) - Math.max(s.start, h));
      const instants = [
        ...new Set([h, ...active.map((s) => s.start).filter((t) => t >= h && t < h + HOUR)]),
      ]
        .sort((a, b) => a - b);
      let peakSessions = 0, peakSessionsAt = h, peakUsers = 0, peakUsersAt = h;
      for (const t of instants) {
        const now = active.filter((s) => runsAt(s, t));
        const users = new Set(now.map((s) => s.user)).size;
        if (now.length > peakSessions) [peakSessions, peakSessionsAt] = [now.length, t];
        if (users > peakUsers) [peakUsers, peakUsersAt] = [users, t];
      }
      const startedHere = (s: OracleSession) => s.start >= h && s.start < h + HOUR;
      out.set(`${rule}|${h}`, {
        pairs: new Set(active.map((s) => `${s.user}|${s.client}`)).size,
        users: new Set(active.map((s) => s.user)).size,
        computers: new Set(active.map((s) => s.client)).size,
        runs: active.filter(startedHere).length,
        runMs: active.reduce((n, s) => n + overlap(s), 0),
        peakSessions,
        peakSessionsAt,
        peakUsers,
        peakUsersAt,
        remoteRuns: active.filter((s) => s.remote && startedHere(s)).length,
        remoteRunMs: active.filter((s) => s.remote).reduce((n, s) => n + overlap(s), 0),
      });
    }
  }
  return out;
}

export interface OracleMonth {
  runs: number;
  runMs: number;
  lastUseMs: number;
  remoteRuns: number;
  remoteRunMs: number;
}

/** Per `rule|month|user|client`. */
export function oracleMonths(sessions: OracleSession[]): Map<string, OracleMonth> {
  const out = new Map<string, OracleMonth>();
  for (const s of sessions) {
    for (let d = Math.floor(s.start / DAY) * DAY; d <= s.end; d += DAY) {
      if (!runsIn(s, d, d + DAY) && !(s.start >= d && s.start < d + DAY)) continue;
      const month = new Date(d).toISOString().slice(0, 7);
      const key = `${s.rule}|${month}|${s.user}|${s.client}`;
      const row = out.get(key) ??
        { runs: 0, runMs: 0, lastUseMs: 0, remoteRuns: 0, remoteRunMs: 0 };
      const ran = Math.max(0, Math.min(s.end, d + DAY) - Math.max(s.start, d));
      const started = s.start >= d && s.start < d + DAY ? 1 : 0;
      row.runs += started;
      row.runMs += ran;
      row.lastUseMs = Math.max(row.lastUseMs, Math.min(s.end, d + DAY));
      if (s.remote) {
        row.remoteRuns += started;
        row.remoteRunMs += ran;
      }
      out.set(key, row);
    }
  }
  return out;
}

/** Distinct users per `rule|localDate|localHour|timeZone`, sampling every minute a session runs. */
export function oracleLocalHours(sessions: OracleSession[]): Map<string, number> {
  const users = new Map<string, Set<string>>();
  for (const s of sessions) {
    const format = new Intl.DateTimeFormat("en-CA", {
      timeZone: s.timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
    });
    const minutes = s.end === s.start ? [s.start] : [];
    for (let t = s.start; t < s.end; t += MINUTE) minutes.push(t);
    for (const t of minutes) {
      const p = Object.fromEntries(format.formatToParts(t).map((x) => [x.type, x.value]));
      const key = `${s.rule}|${p.year}-${p.month}-${p.day}|${Number(p.hour)}|${s.timeZone}`;
      users.set(key, (users.get(key) ?? new Set()).add(s.user));
    }
  }
  return new Map([...users].map(([k, set]) => [k, set.size]));
}
