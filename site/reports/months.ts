/**
 * Calendar months as the summaries keep them: `YYYY-MM`, in UTC, like the
 * `month` column of `monthly_usage` and `monthly_totals` and the UTC hours
 * of `hourly_usage`. Pure arithmetic, so reports and their tests agree on
 * where a month starts and ends.
 *
 * @module
 */

/** The UTC month of an instant, `YYYY-MM`. */
export function monthOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 7);
}

/** Milliseconds since the epoch at 00:00 UTC on the first day of the month. */
export function monthStart(month: string): number {
  return Date.parse(`${month}-01T00:00:00Z`);
}

/** The month `n` months after `month` (before it when `n` is negative). */
export function addMonths(month: string, n: number): string {
  const [year, index] = month.split("-").map(Number);
  return monthOf(Date.UTC(year, index - 1 + n, 1));
}

/** The `count` months ending with `last`, oldest first. */
export function monthsEnding(last: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => addMonths(last, i - count + 1));
}
