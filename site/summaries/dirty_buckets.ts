/**
 * The summary buckets a set of changed sessions touches: UTC hours (for
 * hourly figures) and computers' UTC days (for daily cells, monthly rows
 * and local-hour presence). Buckets that ended before the horizon, where
 * raw sessions may already be deleted, are final and never recomputed.
 *
 * @module
 */
import { dayOf } from "../../model/doc_id.ts";
import { DAY_MS, dayFloor, HOUR_MS, hourFloor } from "./summary_session.ts";

export class DirtyBuckets {
  readonly hours = new Set<number>();
  /** Days by client id. */
  readonly clientDays = new Map<string, Set<string>>();
  readonly #horizon: number;

  /** `horizon`: buckets that ended at or before it stay as they are. */
  constructor(horizon: number) {
    this.#horizon = horizon;
  }

  get size(): number {
    let days = 0;
    for (const set of this.clientDays.values()) days += set.size;
    return this.hours.size + days;
  }

  /** Marks what a session running over `[from, to]` touches. */
  add(clientId: string, from: number, to: number): void {
    const last = Math.max(from, to);
    for (
      let hour = hourFloor(Math.max(from, this.#horizon - HOUR_MS));
      hour <= last;
      hour += HOUR_MS
    ) {
      if (hour + HOUR_MS > this.#horizon) this.hours.add(hour);
    }
    let days = this.clientDays.get(clientId);
    if (!days) this.clientDays.set(clientId, days = new Set());
    for (let day = dayFloor(Math.max(from, this.#horizon - DAY_MS)); day <= last; day += DAY_MS) {
      if (day + DAY_MS > this.#horizon) days.add(dayOf(day));
    }
  }

  /** The dirty hours as contiguous windows of at most `maxHours`. */
  hourWindows(maxHours = 24): { from: number; to: number; hours: Set<number> }[] {
    const sorted = [...this.hours].sort((a, b) => a - b);
    const windows: { from: number; to: number; hours: Set<number> }[] = [];
    for (const hour of sorted) {
      const current = windows.at(-1);
      if (current && current.to === hour && current.hours.size < maxHours) {
        current.to = hour + HOUR_MS;
        current.hours.add(hour);
      } else {
        windows.push({ from: hour, to: hour + HOUR_MS, hours: new Set([hour]) });
      }
    }
    return windows;
  }
}
