/**
 * The local clock agrees with `Intl` formatting every instant directly, in
 * zones with half- and quarter-hour offsets and with daylight saving time
 * (including Lord Howe's half-hour change).
 */
import { expect, test } from "vitest";
import { LocalClock, weekdayOf } from "../site/summaries/local_clock.ts";
import { SeededRandom } from "../lib/seeded_random.ts";

const ZONES = [
  "UTC",
  "Europe/Paris",
  "America/New_York",
  "America/St_Johns",
  "Asia/Kolkata",
  "Asia/Kathmandu",
  "Australia/Lord_Howe",
];

test.each(ZONES)("local hours in %s", (zone) => {
  const clock = LocalClock.of(zone);
  const format = new Intl.DateTimeFormat("en-CA", {
    timeZone: zone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
  });
  const random = new SeededRandom(zone.length);
  for (let i = 0; i < 5_000; i++) {
    const ms = Date.UTC(2026, 0, 1) + random.below(365 * 86_400) * 1000 + random.below(1000);
    const p = Object.fromEntries(format.formatToParts(ms).map((x) => [x.type, x.value]));
    const date = `${p.year}-${p.month}-${p.day}`;
    expect(clock.hourOf(ms)).toEqual({
      date,
      hour: Number(p.hour),
      weekday: weekdayOf(date),
      start: ms - Number(p.minute) * 60_000 - (ms % 60_000),
    });
  }
});

test("hoursOverlapping walks local hours across a change of offset", () => {
  // Paris leaves summer time at 01:00 UTC on 2026-10-25: local 02:00-03:00 happens twice.
  const hours = LocalClock.of("Europe/Paris").hoursOverlapping(
    Date.UTC(2026, 9, 24, 23, 30),
    Date.UTC(2026, 9, 25, 2, 30),
  );
  expect(hours.map((h) => h.hour)).toEqual([1, 2, 2, 3]);
});
