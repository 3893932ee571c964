/**
 * A licence's window: its last `windowDays` UTC days, today included, as
 * whole days because the summaries it is counted from are per day (a
 * computer's day in `daily_usage`). The month rows of `monthly_usage` stand
 * for the window's whole months, so a 90-day window reads about three month
 * rows and a few dozen day rows per computer and user, not ninety.
 *
 * @module
 */
import { DAY_MS, dayOf, dayStart } from "../../model/doc_id.ts";

export interface LicenceWindow {
  /** The first day, `YYYY-MM-DD`. */
  fromDay: string;
  /** 00:00 UTC of the first day. */
  from: number;
  /** The first month read whole from `monthly_usage`. */
  firstWholeMonth: string;
  /** Days `[fromDay, partialEnd)` are read from `daily_usage`; none when equal. */
  partialEnd: string;
}

export function licenceWindow(windowDays: number, now: number): LicenceWindow {
  const fromDay = dayOf(now - (windowDays - 1) * DAY_MS);
  const month = fromDay.slice(0, 7);
  const whole = fromDay.endsWith("-01");
  const [year, index] = month.split("-").map(Number);
  const next = new Date(Date.UTC(year, index, 1)).toISOString().slice(0, 7);
  const firstWholeMonth = whole ? month : next;
  return {
    fromDay,
    from: dayStart(fromDay),
    firstWholeMonth,
    partialEnd: whole ? fromDay : `${firstWholeMonth}-01`,
  };
}

/** The UTC days from `first` to `last`, both included. */
export function daysBetween(first: string, last: string): string[] {
  const days: string[] = [];
  for (let at = dayStart(first); at <= dayStart(last); at += DAY_MS) days.push(dayOf(at));
  return days;
}
