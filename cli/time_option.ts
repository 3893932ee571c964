/**
 * Times on the command line (`--from`, `--to`, `--since`): ISO dates and
 * date-times only, read in UTC unless they carry an offset, as the rest of
 * the API reads them. A plain number is refused rather than taken for
 * milliseconds since 1970: `--from 2026` meant the year, and silently
 * listing nothing from 1970 helped no one.
 *
 * @module
 */
import { stringOption, UsageError, type Values } from "./command.ts";

/** What every command's `--help` says a TIME is. */
export const TIME_HELP = "TIME: 2026-05-01 (midnight UTC), 2026-05-01T08:00 (UTC), " +
  "or with an offset: 2026-05-01T08:00:00Z, 2026-05-01T10:00+02:00";

const ISO = new RegExp(
  "^(\\d{4})-(\\d{2})-(\\d{2})" + // date
    "(?:T(\\d{2}):(\\d{2})(?::(\\d{2})(?:\\.(\\d{1,3}))?)?" + // time, seconds optional
    "(Z|[+-]\\d{2}:\\d{2})?)?$", // offset; none means UTC
);

/** Milliseconds since 1970 of an ISO date or date-time; `undefined` when it is not one. */
export function parseTime(text: string): number | undefined {
  const match = ISO.exec(text);
  if (!match) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map((part) =>
    Number(part ?? 0)
  );
  const ms = Number((match[7] ?? "0").padEnd(3, "0"));
  const offset = offsetMinutes(match[8] ?? "Z");
  if (hour > 23 || minute > 59 || second > 59 || offset === undefined) return undefined;
  const utc = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  // Date.UTC rolls 2026-02-30 over to March (and years below 100 into the
  // 1900s): a date it changed was not a real one.
  const back = new Date(utc);
  const same = back.getUTCFullYear() === year && back.getUTCMonth() === month - 1 &&
    back.getUTCDate() === day;
  if (!same) return undefined;
  return utc - offset * 60_000;
}

/** `Z` or `±HH:MM` as minutes east of UTC. */
function offsetMinutes(offset: string): number | undefined {
  if (offset === "Z") return 0;
  const [hours, minutes] = offset.slice(1).split(":").map(Number);
  if (hours > 23 || minutes > 59) return undefined;
  return (offset.startsWith("-") ? -1 : 1) * (hours * 60 + minutes);
}

/** The `--name` time as ms, or a usage error that shows what a time looks like. */
export function timeOption(values: Values, name: string): number | undefined {
  const value = stringOption(values, name);
  if (value === undefined) return undefined;
  const ms = parseTime(value);
  if (ms === undefined) throw new UsageError(`--${name} ${value} is not a time; ${TIME_HELP}`);
  return ms;
}
