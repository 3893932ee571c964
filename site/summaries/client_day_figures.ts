/**
 * One computer's UTC day, from its sessions that overlap the day: per rule
 * and user, the runs started that day, the time run within it, the last
 * moment of use, the remote share; and which local hours (in the computer's
 * own time zone) each user ran each rule's program in.
 *
 * @module
 */
import { dayStart } from "../../model/doc_id.ts";
import { LocalClock } from "./local_clock.ts";
import { DAY_MS, endOf, type SummarySession } from "./summary_session.ts";

export interface DayCell {
  ruleId: string;
  user: string;
  runs: number;
  runMs: number;
  lastUseMs: number;
  remoteRuns: number;
  remoteRunMs: number;
}

export interface PresenceRow {
  ruleId: string;
  user: string;
  localDate: string;
  localHour: number;
  weekday: number;
}

export interface ClientDayFigures {
  cells: DayCell[];
  presence: PresenceRow[];
  /** The time zone the presence's local hours were read in. */
  timeZone: string;
}

export function clientDayFigures(
  sessions: Iterable<SummarySession>,
  day: string,
  timeZone: string,
  now: number,
): ClientDayFigures {
  const from = dayStart(day);
  const to = from + DAY_MS;
  const clock = LocalClock.of(timeZone);
  const cells = new Map<string, DayCell>();
  const presence = new Map<string, PresenceRow>();
  for (const s of sessions) {
    const end = endOf(s, now);
    const startsToday = s.start >= from && s.start < to;
    if (!startsToday && (end <= from || s.start >= to)) continue;
    const within = [Math.max(s.start, from), Math.min(end, to)] as const;
    const ran = Math.max(0, within[1] - within[0]);
    const key = `${s.ruleId}\u0000${s.user}`;
    let cell = cells.get(key);
    if (!cell) {
      cells.set(
        key,
        cell = {
          ruleId: s.ruleId,
          user: s.user,
          runs: 0,
          runMs: 0,
          lastUseMs: 0,
          remoteRuns: 0,
          remoteRunMs: 0,
        },
      );
    }
    cell.runs += startsToday ? 1 : 0;
    cell.runMs += ran;
    cell.lastUseMs = Math.max(cell.lastUseMs, within[1]);
    if (s.remote) {
      cell.remoteRuns += startsToday ? 1 : 0;
      cell.remoteRunMs += ran;
    }
    // A zero-length run is present in the local hour of its instant.
    const hours = ran > 0
      ? clock.hoursOverlapping(within[0], within[1])
      : [clock.hourOf(within[0])];
    for (const hour of hours) {
      const row = {
        ruleId: s.ruleId,
        user: s.user,
        localDate: hour.date,
        localHour: hour.hour,
        weekday: hour.weekday,
      };
      presence.set(`${key}\u0000${hour.date}\u0000${hour.hour}`, row);
    }
  }
  return { cells: [...cells.values()], presence: [...presence.values()], timeZone };
}
