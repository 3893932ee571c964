/**
 * Instants in query parameters: an ISO 8601 date or date-time, or ms since
 * the epoch; what is accepted is said in the error.
 *
 * A number of ms before 2000 is refused: no usage is that old, and such a
 * number is almost always a year or a date typed without dashes (`2026`,
 * `20260501`), which would otherwise select nothing without a word.
 *
 * @module
 */
import { z } from "zod";

const YEAR_2000 = Date.UTC(2000, 0, 1);
const ACCEPTED = "give an ISO date (2026-11-27), date-time or ms since 1970";

export const instantSchema = z.string().transform((value, ctx) => {
  const digits = /^\d+$/.test(value);
  const ms = digits ? Number(value) : Date.parse(value);
  if (Number.isNaN(ms)) {
    ctx.addIssue({ code: "custom", message: `${value} is not a time: ${ACCEPTED}` });
    return z.NEVER;
  }
  if (digits && ms < YEAR_2000) {
    ctx.addIssue({
      code: "custom",
      message: `${value} ms since 1970 is before 2000, so no usage is that old; ${ACCEPTED}`,
    });
    return z.NEVER;
  }
  return ms;
});

export const iso = (
  ms: number | null | undefined,
) => (ms == null ? null : new Date(ms).toISOString());
