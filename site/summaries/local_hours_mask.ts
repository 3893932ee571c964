/**
 * The local hours a user ran a rule's program in, during one UTC day of one
 * computer, as one integer: the `local_hours` of a `daily_usage` row.
 *
 * Bit `(localDate - utcDay) × 24 + localHour + 12` is set for each local
 * hour (in the computer's zone) the runs overlapped. A UTC day falls on at
 * most the local dates before, of and after it, in zones from UTC−12 to
 * UTC+14: the hours 12–23 of the date before (bits 0–11), the whole date
 * (12–35) and the hours 0–14 of the date after (36–50). 51 bits fit in a
 * JavaScript number and a SQLite integer exactly, and SQL can read them
 * (`(local_hours >> (24 × k + 12)) & 0xFFFFFF` are the hours of date
 * `utcDay + k`).
 *
 * JavaScript's bit operators work on 32 bits, so bits are read and set with
 * arithmetic here.
 *
 * @module
 */
import { DAY_MS, dayOf, dayStart } from "../../model/doc_id.ts";

/** The highest bit a mask may hold (beyond UTC+16, which no zone reaches). */
const TOP_BIT = 52;

/** The bit of a local hour in a UTC day's mask; `null` outside the dates it can span. */
export function localHourBit(utcDay: string, localDate: string, hour: number): number | null {
  const days = localDate === utcDay
    ? 0
    : Math.round((dayStart(localDate) - dayStart(utcDay)) / DAY_MS);
  const bit = days * 24 + hour + 12;
  return bit >= 0 && bit <= TOP_BIT ? bit : null;
}

/** `mask` with `bit` set. */
export function withBit(mask: number, bit: number): number {
  return hasBit(mask, bit) ? mask : mask + 2 ** bit;
}

export function hasBit(mask: number, bit: number): boolean {
  return Math.floor(mask / 2 ** bit) % 2 === 1;
}

/**
 * The local dates a UTC day's mask has hours on, each with its hours as a
 * 24-bit mask (bit h: local hour h).
 */
export function hoursByLocalDate(utcDay: string, mask: number): Map<string, number> {
  const dates = new Map<string, number>();
  const names = localDatesAround(utcDay);
  LOCAL_DATES.forEach((k, i) => {
    const hours = hoursOnLocalDate(mask, k);
    if (hours !== 0) dates.set(names[i], hours);
  });
  return dates;
}

/** The dates of {@linkcode LOCAL_DATES} for a UTC day: the day before, the day, the day after. */
export function localDatesAround(utcDay: string): string[] {
  const start = dayStart(utcDay);
  return LOCAL_DATES.map((k) => dayOf(start + k * DAY_MS));
}

/** A UTC day's mask holds hours of the local dates before (-1), of (0) and after (1) it. */
export const LOCAL_DATES = [-1, 0, 1] as const;

/** The hours of local date `k` (-1, 0, 1: before, of, after the UTC day) in a day's mask, as 24 bits. */
export function hoursOnLocalDate(mask: number, k: -1 | 0 | 1): number {
  const shift = 24 * k + 12;
  // The date before holds only its hours 12-23 (bits 0-11): shifted up, not down.
  return shift < 0
    ? (mask % 2 ** (24 + shift)) * 2 ** -shift
    : Math.floor(mask / 2 ** shift) % 2 ** 24;
}

/** The hours (0–23) set in a 24-bit mask. */
export function hoursOf(hours: number): number[] {
  const set: number[] = [];
  for (let h = 0; h < 24; h++) if ((hours >>> h) & 1) set.push(h);
  return set;
}
