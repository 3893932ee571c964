/**
 * The stretch of time a report covers (one month, the last N months, the
 * last N days, everything since an instant) and the one rule they share:
 * summaries are kept for `summaryRetentionDays`, so a range that reaches
 * back further (starts before now minus that many days) is refused with a
 * 400 naming the parameter and the limit rather than answered with figures
 * that silently miss what was deleted. A default range is shortened to fit.
 *
 * @module
 */
import { badRequest } from "../http/api_error.ts";
import type { ReportSettings } from "./report_sources.ts";
import { DAY_MS, dayOf, dayStart } from "../../model/doc_id.ts";
import { addMonths, monthOf, monthsEnding, monthStart } from "./months.ts";

export const DEFAULT_MONTHS = 12;
export const DEFAULT_DAYS = 90;

/** The earliest instant summaries are kept for. */
function retentionStart(settings: ReportSettings, now: number): number {
  return now - settings.summaryRetentionDays * DAY_MS;
}

function beyondRetention(settings: ReportSettings, what: string, from: number, allowed: string) {
  const days = settings.summaryRetentionDays;
  return badRequest(
    `invalid query: ${what} reaches back to ${dayOf(from)}, beyond the ${days} days ` +
      `summaries are kept (summaryRetentionDays); ${allowed}`,
    "invalid_input",
  );
}

/** A month parameter, refused when it starts before summary retention. */
export function checkMonth(settings: ReportSettings, month: string, now: number): string {
  const limit = retentionStart(settings, now);
  if (monthStart(month) < limit) {
    const first = monthOf(limit);
    const earliest = monthStart(first) === limit ? first : addMonths(first, 1);
    throw beyondRetention(
      settings,
      `month: ${month}`,
      monthStart(month),
      `ask for ${earliest} or later`,
    );
  }
  return month;
}

export interface MonthsWindow {
  months: number;
  firstMonth: string;
  lastMonth: string;
  list: string[];
}

/** How many months ending with the current one start within retention. */
function monthsKept(settings: ReportSettings, now: number): number {
  const last = monthOf(now);
  const limit = retentionStart(settings, now);
  let n = 0;
  while (n < 100_000 && monthStart(addMonths(last, -n)) >= limit) n++;
  return n;
}

/** The last `given` months (default 12, shortened to retention) ending this month. */
export function trendMonths(settings: ReportSettings, given: number | undefined, now: number) {
  const kept = monthsKept(settings, now);
  const months = given ?? Math.max(1, Math.min(DEFAULT_MONTHS, kept));
  const lastMonth = monthOf(now);
  const list = monthsEnding(lastMonth, months);
  if (given !== undefined && given > kept) {
    throw beyondRetention(
      settings,
      `months: ${given} months`,
      monthStart(list[0]),
      kept ? `ask for at most ${kept}` : "not even this month is kept whole",
    );
  }
  return { months, firstMonth: list[0], lastMonth, list } satisfies MonthsWindow;
}

/**
 * How many days a "last N days" report covers: `given`, or 90 shortened to
 * retention; refused beyond retention (counted in UTC days, as maintenance
 * deletes). Whose days they are is the report's: see `local_calendars.ts`.
 */
export function dayCount(settings: ReportSettings, given: number | undefined, now: number): number {
  const kept = settings.summaryRetentionDays;
  const days = given ?? Math.min(DEFAULT_DAYS, kept);
  if (days > kept) {
    throw beyondRetention(
      settings,
      `days: ${days} days`,
      dayStart(dayOf(now)) - (days - 1) * DAY_MS,
      `ask for at most ${kept}`,
    );
  }
  return days;
}

/** An instant parameter, refused when it is before summary retention. */
export function checkSince(settings: ReportSettings, since: number, now: number): number {
  const limit = retentionStart(settings, now);
  if (since < limit) {
    throw beyondRetention(
      settings,
      `since: ${new Date(since).toISOString()}`,
      since,
      `ask for ${new Date(limit).toISOString()} or later`,
    );
  }
  return since;
}
