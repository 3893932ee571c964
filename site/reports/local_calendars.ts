/**
 * "The last N days" on each computer's own calendar. A computer's window is
 * the N local dates ending with its *today*: the date its clock shows at the
 * report's instant, in its time zone's offset at that instant. A computer at
 * UTC+13 asked at 11:00 UTC is already on tomorrow's date (UTC terms), so
 * its window ends a date later than a UTC computer's; one at UTC−11 asked at
 * 10:00 UTC is still on yesterday's, so its window starts a date earlier.
 *
 * Computers whose clocks show the same date at the instant share a window: a
 * calendar. Offsets run from UTC−12 to UTC+14, so at any instant clocks show
 * two or three dates and a report has one to three calendars.
 *
 * @module
 */
import { DAY_MS, dayOf, dayStart } from "../../model/doc_id.ts";
import { LocalClock, weekdayOf } from "../summaries/local_clock.ts";
import { HOUR_MS } from "../summaries/summary_session.ts";

export interface LocalCalendar {
  firstDate: string;
  /** The date the calendar's clocks show at the instant. */
  lastDate: string;
  /** The time zones on this calendar at the instant, sorted. */
  timeZones: string[];
  /** How many of the N dates fall on each weekday, Monday first. */
  datesPerWeekday: number[];
}

/** The calendars of some time zones at `now`, each N dates long, earliest first. */
export function calendarsAt(timeZones: Iterable<string>, days: number, now: number) {
  const byToday = new Map<string, string[]>();
  for (const zone of new Set(timeZones)) {
    const today = LocalClock.of(zone).hourOf(now).date;
    byToday.set(today, [...byToday.get(today) ?? [], zone]);
  }
  return [...byToday.keys()].sort().map((today): LocalCalendar => {
    const dates = datesEnding(today, days);
    const datesPerWeekday = Array<number>(7).fill(0);
    for (const date of dates) datesPerWeekday[weekdayOf(date) - 1]++;
    return {
      firstDate: dates[0],
      lastDate: today,
      timeZones: byToday.get(today)!.sort(),
      datesPerWeekday,
    };
  });
}

/**
 * Every date some calendar's window may hold at `now`, whatever its zone:
 * clocks run from 12 hours behind UTC to 14 ahead.
 */
export function possibleDates(days: number, now: number) {
  return {
    firstDate: datesEnding(dayOf(now - 12 * HOUR_MS), days)[0],
    lastDate: dayOf(now + 14 * HOUR_MS),
  };
}

/** The `days` dates ending with `last`, in order. */
function datesEnding(last: string, days: number): string[] {
  const end = dayStart(last);
  return Array.from({ length: days }, (_, i) => dayOf(end - (days - 1 - i) * DAY_MS));
}
