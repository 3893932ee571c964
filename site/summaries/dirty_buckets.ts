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

/** The rules whose figures of an hour changed; `null`: every rule. */
export type DirtyRules = Set<string> | null;

export class DirtyBuckets {
  /** The hours to recompute, each with the rules to recompute in it. */
  readonly hours = new Map<number, DirtyRules>();
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

  /**
   * Marks what a session of `ruleId` running over `[from, to]` touches; with
   * no rule, every rule's figures of those hours.
   */
  add(clientId: string, from: number, to: number, ruleId?: string): void {
    const last = Math.max(from, to);
    for (
      let hour = hourFloor(Math.max(from, this.#horizon - HOUR_MS));
      hour <= last;
      hour += HOUR_MS
    ) {
      if (hour + HOUR_MS > this.#horizon) this.#addHour(hour, ruleId);
    }
    let days = this.clientDays.get(clientId);
    if (!days) this.clientDays.set(clientId, days = new Set());
    for (let day = dayFloor(Math.max(from, this.#horizon - DAY_MS)); day <= last; day += DAY_MS) {
      if (day + DAY_MS > this.#horizon) days.add(dayOf(day));
    }
  }

  #addHour(hour: number, ruleId: string | undefined): void {
    const rules = this.hours.get(hour);
    if (rules === null) return;
    if (ruleId === undefined) this.hours.set(hour, null);
    else if (rules) rules.add(ruleId);
    else this.hours.set(hour, new Set([ruleId]));
  }

  /**
   * The dirty hours as contiguous windows of at most `maxHours`, each with
   * the rules dirty in any of its hours (recomputing a rule's hour that did
   * not change gives the same figures).
   */
  hourWindows(maxHours = 24): HourWindow[] {
    const sorted = [...this.hours.keys()].sort((a, b) => a - b);
    const windows: HourWindow[] = [];
    for (const hour of sorted) {
      const rules = this.hours.get(hour)!;
      const current = windows.at(-1);
      if (current && current.to === hour && current.hours.size < maxHours) {
        current.to = hour + HOUR_MS;
        current.hours.add(hour);
        current.rules = union(current.rules, rules);
      } else {
        windows.push({
          from: hour,
          to: hour + HOUR_MS,
          hours: new Set([hour]),
          rules: rules && new Set(rules),
        });
      }
    }
    return windows;
  }
}

export interface HourWindow {
  from: number;
  to: number;
  hours: Set<number>;
  rules: DirtyRules;
}

function union(a: DirtyRules, b: DirtyRules): DirtyRules {
  if (a === null || b === null) return null;
  for (const rule of b) a.add(rule);
  return a;
}
