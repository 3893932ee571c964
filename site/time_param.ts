/**
 * Instants in query parameters: an ISO 8601 date or date-time, or ms since
 * the epoch; what is accepted is said in the error.
 *
 * @module
 */
import { z } from "zod";

export const instantSchema = z.string().transform((value, ctx) => {
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (Number.isNaN(ms)) {
    ctx.addIssue({
      code: "custom",
      message: `${value} is not a time: give an ISO date (2026-11-27), date-time or ms since 1970`,
    });
    return z.NEVER;
  }
  return ms;
});

export const iso = (
  ms: number | null | undefined,
) => (ms == null ? null : new Date(ms).toISOString());
