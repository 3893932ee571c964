/**
 * What a rebuild from scratch adds up above the days, as it goes through
 * them in order: each computer's monthly rows, and each user's local hours
 * per rule, local date and zone with the users counted per local hour.
 *
 * They are kept in memory and written in key order once complete: a month
 * when the next one begins, a local date once the UTC day after it is done
 * (a local date takes hours from the UTC days before, of and after it). The
 * hours go through the same writes as a run's (`local_user_hours.ts`), with
 * nothing stored before. So a rebuild appends to these tables instead of
 * reading its own daily rows back, which took longer than computing them.
 *
 * @module
 */
import type { InStatement } from "../../store/db.ts";
import type { ClientDayFigures } from "./client_day_figures.ts";
import { hoursOnLocalDate, LOCAL_DATES, localDatesAround } from "./local_hours_mask.ts";
import { userHoursChangeStatements } from "./local_user_hours.ts";
import { bulkInsert } from "./summary_statements.ts";

interface MonthlyRow {
  key: string;
  values: [string, string, string, string, number, number, number, number, number];
}

interface UserHours {
  key: string;
  values: [ruleId: string, localDate: string, timeZone: string, user: string, hours: number];
}

export class RebuildSums {
  #month: string | undefined;
  readonly #monthly = new Map<string, MonthlyRow>();
  /** Users' hours by local date. */
  readonly #hours = new Map<string, Map<string, UserHours>>();

  /** Adds a day's computers, in day order; returns the writes of what that completes. */
  addDay(day: string, entries: { clientId: string; figures: ClientDayFigures }[]): InStatement[] {
    const month = day.slice(0, 7);
    const done = month === this.#month ? [] : this.#monthStatements();
    this.#month = month;
    // The local dates a cell's hours can fall on, named once for the day.
    const dates = localDatesAround(day);
    for (const { clientId, figures } of entries) {
      for (const cell of figures.cells) {
        this.#addMonthly(month, clientId, cell);
        LOCAL_DATES.forEach((k, i) => {
          const hours = hoursOnLocalDate(cell.localHours, k);
          if (hours !== 0) {
            this.#addHours(cell.ruleId, dates[i], figures.timeZone, cell.user, hours);
          }
        });
      }
    }
    const complete = [...this.#hours.keys()].filter((date) => date < day);
    return [...done, ...complete.flatMap((date) => this.#dateStatements(date))];
  }

  /** The writes of everything still held, after the last day. */
  finish(): InStatement[] {
    const dates = [...this.#hours.keys()];
    return [...this.#monthStatements(), ...dates.flatMap((date) => this.#dateStatements(date))];
  }

  #addMonthly(month: string, clientId: string, cell: ClientDayFigures["cells"][number]): void {
    const key = `${cell.ruleId}\u0000${cell.user}\u0000${clientId}`;
    let row = this.#monthly.get(key);
    if (!row) {
      const values: MonthlyRow["values"] = [cell.ruleId, month, cell.user, clientId, 0, 0, 0, 0, 0];
      this.#monthly.set(key, row = { key, values });
    }
    const v = row.values;
    v[4] += cell.runs;
    v[5] += cell.runMs;
    v[6] = Math.max(v[6], cell.lastUseMs);
    v[7] += cell.remoteRuns;
    v[8] += cell.remoteRunMs;
  }

  #addHours(ruleId: string, date: string, zone: string, user: string, hours: number): void {
    let ofDate = this.#hours.get(date);
    if (!ofDate) this.#hours.set(date, ofDate = new Map());
    const key = `${ruleId}\u0000${zone}\u0000${user}`;
    const row = ofDate.get(key);
    if (row) row.values[4] |= hours;
    else ofDate.set(key, { key, values: [ruleId, date, zone, user, hours] });
  }

  /** The month's rows, in key order (rule, month, user, computer). */
  #monthStatements(): InStatement[] {
    const rows = [...this.#monthly.values()].sort(byKey).map((row) => row.values);
    this.#monthly.clear();
    return bulkInsert("monthly_usage", MONTHLY_COLUMNS, rows);
  }

  /** A local date's users' hours, in key order, and its users per hour. */
  #dateStatements(date: string): InStatement[] {
    const rows = [...this.#hours.get(date)!.values()].sort(byKey);
    this.#hours.delete(date);
    return userHoursChangeStatements(
      rows.map(({ values: [ruleId, , zone, user] }) => [ruleId, date, zone, user]),
      rows.map((row) => row.values[4]),
      rows.map(() => 0),
    );
  }
}

const byKey = (a: { key: string }, b: { key: string }) =>
  a.key < b.key ? -1 : a.key > b.key ? 1 : 0;

const MONTHLY_COLUMNS = [
  "rule_id",
  "month",
  "user_name",
  "client_id",
  "runs",
  "run_ms",
  "last_use_ms",
  "remote_runs",
  "remote_run_ms",
];
