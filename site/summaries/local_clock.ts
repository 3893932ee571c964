/**
 * A computer's local clock, from its IANA time zone: which local date, hour
 * and weekday an instant falls in, and where that local hour began. The
 * time-of-day report reads usage in each client's own clock.
 *
 * Offsets in quarter hours (India, Nepal) and daylight saving time come from
 * `Intl`, asked once per zone and quarter hour (offsets and their changes
 * fall on quarter hours), and kept: formatting every instant was a fifth of
 * the time of summarising a large fleet.
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

const QUARTER_MS = 900_000;

export class LocalClock {
  readonly #format: Intl.DateTimeFormat;
  /** UTC offset in ms by quarter hour since the epoch. */
  readonly #offsets = new Map<number, number>();
  /** The local hour of each quarter hour since the epoch (shared: callers must not change it). */
  readonly #hours = new Map<number, LocalHour>();

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

  /**
   * The local hour an instant falls in. Local hours begin on quarter hours
   * of UTC in every zone, so every instant of a quarter hour is in the same
   * one: it is worked out once per quarter and kept.
   */
  hourOf(ms: number): LocalHour {
    const quarter = Math.floor(ms / QUARTER_MS);
    let hour = this.#hours.get(quarter);
    if (!hour) {
      const at = quarter * QUARTER_MS;
      const local = at + this.#offsetAt(at);
      const wall = new Date(local);
      const date = wall.toISOString().slice(0, 10);
      const intoHour = ((local % HOUR_MS) + HOUR_MS) % HOUR_MS;
      hour = { date, hour: wall.getUTCHours(), weekday: weekdayOf(date), start: at - intoHour };
      if (this.#hours.size > 100_000) this.#hours.clear();
      this.#hours.set(quarter, hour);
    }
    return hour;
  }

  /** How far local time is ahead of UTC at an instant. */
  #offsetAt(ms: number): number {
    const quarter = Math.floor(ms / QUARTER_MS);
    let offset = this.#offsets.get(quarter);
    if (offset === undefined) {
      const at = quarter * QUARTER_MS;
      const parts: Record<string, string> = {};
      for (const part of this.#format.formatToParts(at)) parts[part.type] = part.value;
      const wall = Date.UTC(
        Number(parts.year),
        Number(parts.month) - 1,
        Number(parts.day),
        Number(parts.hour),
        Number(parts.minute),
        Number(parts.second),
      );
      offset = wall - at;
      if (this.#offsets.size > 100_000) this.#offsets.clear();
      this.#offsets.set(quarter, offset);
    }
    return offset;
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
