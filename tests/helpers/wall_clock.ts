/**
 * The test's own reading of a clock in a time zone, from `Intl` alone, so
 * that tests of local dates and hours compare the site with something that
 * shares none of its code.
 *
 * @module
 */

/** The ISO weekday (1 = Monday … 7 = Sunday) of a `YYYY-MM-DD` date. */
export const isoWeekday = (date: string) => (new Date(`${date}T00:00:00Z`).getUTCDay() + 6) % 7 + 1;

/** A reader of the local date, hour and weekday of instants on a clock in `zone`. */
export function wallClock(zone: string): (at: number) => {
  date: string;
  hour: number;
  weekday: number;
} {
  const format = new Intl.DateTimeFormat("en-CA", {
    timeZone: zone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
  });
  return (at) => {
    const p = Object.fromEntries(format.formatToParts(at).map((x) => [x.type, x.value]));
    const date = `${p.year}-${p.month}-${p.day}`;
    return { date, hour: Number(p.hour), weekday: isoWeekday(date) };
  };
}
