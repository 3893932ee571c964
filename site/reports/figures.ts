/**
 * How reports show figures: run times in hours with two decimals (summed in
 * milliseconds first, rounded once), averages with two decimals, instants as
 * ISO 8601 strings (null when there is none).
 *
 * @module
 */
export { iso } from "../http/time_param.ts";

const HOUR_MS = 3_600_000;

/** Milliseconds as hours, rounded to two decimals. */
export function hours(ms: number | null | undefined): number {
  return Math.round((ms ?? 0) / (HOUR_MS / 100)) / 100;
}

/** A ratio rounded to two decimals. */
export function twoDecimals(value: number): number {
  return Math.round(value * 100) / 100;
}
