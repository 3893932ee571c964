/**
 * A UTC day's local hours as one integer (`local_hours_mask.ts`): every
 * local hour a run overlaps, in zones from UTC−12 to UTC+14, with half and
 * quarter hours and daylight-saving days, comes back from the mask as the
 * local clock reads it, on the right local date.
 */
import { describe, expect, test } from "vitest";
import { LocalClock } from "../site/summaries/local_clock.ts";
import {
  hasBit,
  hoursByLocalDate,
  hoursOf,
  localHourBit,
  withBit,
} from "../site/summaries/local_hours_mask.ts";
import { dayOf, dayStart } from "../model/doc_id.ts";
import { SeededRandom } from "../lib/seeded_random.ts";

const ZONES = [
  "UTC",
  "Etc/GMT+12",
  "Pacific/Kiritimati",
  "Asia/Kolkata",
  "Asia/Kathmandu",
  "America/St_Johns",
  "Australia/Lord_Howe",
  "Europe/London",
  "America/Los_Angeles",
  "Pacific/Auckland",
];
/** Days around daylight-saving changes in both hemispheres, and an ordinary one. */
const DAYS = ["2026-03-08", "2026-03-29", "2026-04-05", "2026-10-25", "2026-11-01", "2026-06-15"];

describe("local hours of a UTC day as one integer", () => {
  test("setting a bit twice changes nothing, and bits above 31 are kept exactly", () => {
    let mask = 0;
    for (const bit of [0, 31, 32, 50, 50, 12]) mask = withBit(mask, bit);
    expect(mask).toBe(2 ** 0 + 2 ** 12 + 2 ** 31 + 2 ** 32 + 2 ** 50);
    expect([0, 12, 31, 32, 50].every((bit) => hasBit(mask, bit))).toBe(true);
    expect(hasBit(mask, 49)).toBe(false);
  });

  test("a local date more than a day from the UTC day has no bit", () => {
    expect(localHourBit("2026-06-15", "2026-06-13", 23)).toBeNull();
    expect(localHourBit("2026-06-15", "2026-06-14", 11)).toBeNull();
    expect(localHourBit("2026-06-15", "2026-06-14", 12)).toBe(0);
    expect(localHourBit("2026-06-15", "2026-06-16", 14)).toBe(50);
  });

  for (const zone of ZONES) {
    test(`every hour a run overlaps comes back, in ${zone}`, () => {
      const clock = LocalClock.of(zone);
      const random = new SeededRandom(zone.length * 7919);
      for (const day of DAYS) {
        const from = dayStart(day);
        for (let i = 0; i < 40; i++) {
          const start = from + Math.floor(random.next() * 86_400_000);
          const end = Math.min(
            from + 86_400_000,
            start + Math.floor(random.next() * 6 * 3_600_000),
          );
          const expected = new Map<string, Set<number>>();
          let mask = 0;
          for (const hour of clock.hoursOverlapping(start, Math.max(end, start + 1))) {
            if (!expected.has(hour.date)) expected.set(hour.date, new Set());
            expected.get(hour.date)!.add(hour.hour);
            const bit = localHourBit(day, hour.date, hour.hour);
            expect(bit, `${zone} ${hour.date} ${hour.hour} of ${day}`).not.toBeNull();
            mask = withBit(mask, bit!);
          }
          const decoded = [...hoursByLocalDate(day, mask)].map(([date, hours]) =>
            [date, hoursOf(hours)] as const
          );
          expect(new Map(decoded.map(([date, hours]) => [date, new Set(hours)])))
            .toEqual(expected);
          // The dates are the day before, of, or after.
          for (const [date] of decoded) {
            expect(Math.abs(dayStart(date) - from)).toBeLessThanOrEqual(86_400_000);
            expect([dayOf(from - 86_400_000), day, dayOf(from + 86_400_000)]).toContain(date);
          }
        }
      }
    });
  }
});
