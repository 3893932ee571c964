/**
 * One computer's UTC day, from its sessions that overlap the day: per rule
 * and user, the runs started that day, the time run within it, the last
 * moment of use, the remote share; and which local hours (in the computer's
 * own time zone) each user ran each rule's program in, as the cell's
 * `localHours` mask (`local_hours_mask.ts`).
 *
 * @module
 */
import { dayStart } from "../../model/doc_id.ts";
import { LocalClock, type LocalHour } from "./local_clock.ts";
import { localHourBit, withBit } from "./local_hours_mask.ts";
import { DAY_MS, endOf, type SummarySession } from "./summary_session.ts";

export interface DayCell {
  ruleId: string;
  user: string;
  runs: number;
  runMs: number;
  lastUseMs: number;
  remoteRuns: number;
  remoteRunMs: number;
  /** The local hours it ran in, in `timeZone` (`local_hours_mask.ts`). */
  localHours: number;
}

export interface ClientDayFigures {
  cells: DayCell[];
  /** The time zone the cells' local hours were read in. */
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
  // Cells by rule, then by user key: no key string to build per session.
  const byRule = new Map<string, Map<number, DayCell>>();
  const cells: DayCell[] = [];
  // The clock hands out one object per local hour: its bit is worked out once.
  const bits = new Map<LocalHour, number | null>();
  const bitOf = (hour: LocalHour) => {
    let bit = bits.get(hour);
    if (bit === undefined) bits.set(hour, bit = localHourBit(day, hour.date, hour.hour));
    return bit;
  };
  for (const s of sessions) {
    const end = endOf(s, now);
    const startsToday = s.start >= from && s.start < to;
    if (!startsToday && (end <= from || s.start >= to)) continue;
    const within = [Math.max(s.start, from), Math.min(end, to)] as const;
    const ran = Math.max(0, within[1] - within[0]);
    let ofRule = byRule.get(s.ruleId);
    if (!ofRule) byRule.set(s.ruleId, ofRule = new Map());
    let cell = ofRule.get(s.userKey);
    if (!cell) {
      ofRule.set(s.userKey, cell = emptyCell(s.ruleId, s.user));
      cells.push(cell);
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
      const bit = bitOf(hour);
      if (bit !== null) cell.localHours = withBit(cell.localHours, bit);
    }
  }
  return { cells, timeZone };
}

const emptyCell = (ruleId: string, user: string): DayCell => ({
  ruleId,
  user,
  runs: 0,
  runMs: 0,
  lastUseMs: 0,
  remoteRuns: 0,
  remoteRunMs: 0,
  localHours: 0,
});
