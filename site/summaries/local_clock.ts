/**
 * A computer's local clock, from its IANA time zone: which local date, hour
 * and weekday an instant falls in, and where that local hour began. The
 * time-of-day report reads usage in each client's own clock.
 *
 * Offsets in whole quarter hours (India, Nepal) and daylight saving time are
 * handled by asking `Intl` for every instant rather than adding an offset.
 *
 * @module
 */

export interface LocalHour {
  /** `YYYY-MM-DD` in local time. */
  date: string;
  /** 0 to 23. */
  hour: number;
  /** 1 = Monday ... 7 = Sunday. */
  weekday: number;
  /** The instant (ms) the local hour began. */
  start: number;
}

const HOUR_MS = 3_600_000;
const clocks = new Map<string, LocalClock>();

export class LocalClock {
  readonly #format: Intl.DateTimeFormat;

  private constructor(timeZone: string) {
    this.#format = new Intl.DateTimeFormat("en-CA", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
  }

  /** The clock of a time zone; an unknown zone reads as UTC. */
  static of(timeZone: string): LocalClock {
    let clock = clocks.get(timeZone);
    if (!clock) {
      try {
        clock = new LocalClock(timeZone);
      } catch {
        clock = LocalClock.of("UTC");
      }
      clocks.set(timeZone, clock);
    }
    return clock;
  }

  /** The local hour an instant falls in. */
  hourOf(ms: number): LocalHour {
    const parts: Record<string, string> = {};
    for (const part of this.#format.formatToParts(ms)) parts[part.type] = part.value;
    const date = `${parts.year}-${parts.month}-${parts.day}`;
    const intoHour = Number(parts.minute) * 60_000 + Number(parts.second) * 1000 +
      (ms % 1000 + 1000) % 1000;
    return { date, hour: Number(parts.hour), weekday: weekdayOf(date), start: ms - intoHour };
  }

  /** Every local hour that `[from, to)` overlaps, in order. */
  hoursOverlapping(from: number, to: number): LocalHour[] {
    const hours: LocalHour[] = [];
    for (let at = from; at < to;) {
      const hour = this.hourOf(at);
      hours.push(hour);
      at = hour.start + HOUR_MS;
    }
    return hours;
  }
}

/** ISO weekday of a calendar date: 1 = Monday ... 7 = Sunday. */
export function weekdayOf(date: string): number {
  const day = new Date(`${date}T00:00:00Z`).getUTCDay();
  return day === 0 ? 7 : day;
}
