/**
 * Keeps the time-of-day tables equal to what the daily rows' local hours say,
 * for the users whose days a summariser run recomputed.
 *
 * A key is a rule, a local date, a time zone and a user. Its hours are the
 * union of the `local_hours` of this site's own computers' daily rows of
 * that rule and user, on the three UTC days that can hold the local date, in
 * that zone (`local_hours_mask.ts`). `local_user_hours` holds each key's
 * hours; `local_hour_users` counts the keys per hour.
 *
 * A key is counted again from the daily rows, compared with its stored hours,
 * and the difference added to the counts of the hours that changed, in one
 * transaction with the new hours. The stored hours are the record of what the
 * counts hold, so a run that stops half-way and is done again adds nothing
 * twice; and a cell is touched only where a user's hours changed, however
 * many users it counts.
 *
 * @module
 */
import type { Client, InStatement } from "../../store/db.ts";
import { weekdayOf } from "./local_clock.ts";
import { hoursByLocalDate } from "./local_hours_mask.ts";
import { inOwnClients } from "../clients/clients_table.ts";
import { JSON_ROWS, jsonFields, withJsonRows } from "../../store/json_rows.ts";

/** A rule, local date, time zone and user whose hours may have changed. */
export type UserHoursKey = readonly [
  ruleId: string,
  localDate: string,
  timeZone: string,
  user: string,
];

/** What of a daily row decides its keys. */
export interface DayHours {
  ruleId: string;
  user: string;
  timeZone: string;
  localHours: number;
}

/** Keys per transaction: each reads a few rows per key, and writes fewer. */
const KEYS_PER_TRANSACTION = 5_000;

/** The keys a UTC day's rows have hours in. */
export function userHoursKeys(day: string, rows: Iterable<DayHours>): UserHoursKey[] {
  const keys: UserHoursKey[] = [];
  for (const row of rows) {
    for (const date of hoursByLocalDate(day, row.localHours).keys()) {
      keys.push([row.ruleId, date, row.timeZone, row.user]);
    }
  }
  return keys;
}

/**
 * The transactions that bring the keys' stored hours and the counts of their
 * cells to what the daily rows say now. Reads happen here, outside the write
 * lock: the summariser is the only writer of these tables and of its own
 * computers' daily rows.
 */
export async function userHoursStatements(
  db: Client,
  keys: Iterable<UserHoursKey>,
): Promise<InStatement[][]> {
  const unique = new Map<string, UserHoursKey>();
  for (const key of keys) unique.set(key.join("\u0000"), key);
  const all = [...unique.values()];
  const transactions: InStatement[][] = [];
  for (let i = 0; i < all.length; i += KEYS_PER_TRANSACTION) {
    const part = all.slice(i, i + KEYS_PER_TRANSACTION);
    const [now, stored] = await Promise.all([hoursNow(db, part), storedHours(db, part)]);
    const statements = userHoursChangeStatements(part, now, stored);
    if (statements.length > 0) transactions.push(statements);
  }
  return transactions;
}

/**
 * Each key's hours from the daily rows, by the key's index. `CROSS JOIN`
 * keeps the three days outside the table, so each is one seek of the index
 * by rule, day and user; left to itself, SQLite seeks by rule alone. The
 * `+` keeps it from seeking once per own client as well.
 */
async function hoursNow(db: Client, keys: UserHoursKey[]): Promise<number[]> {
  const result = await db.execute({
    sql: `SELECT k.key AS i, d.day, d.local_hours
      FROM json_each(?) k CROSS JOIN json_each('[-1,0,1]') o
      CROSS JOIN daily_usage d INDEXED BY daily_usage_by_rule_day
      WHERE d.rule_id = k.value ->> 0 AND d.day = date(k.value ->> 1, o.value || ' days')
        AND d.user_name = k.value ->> 3 AND d.time_zone = k.value ->> 2 AND d.local_hours != 0
        AND ${inOwnClients("+d.client_id")}`,
    args: [JSON.stringify(keys)],
  });
  const hours = keys.map(() => 0);
  for (const row of result.rows) {
    const i = row.i as number;
    const onDate = hoursByLocalDate(row.day as string, row.local_hours as number).get(keys[i][1]);
    if (onDate !== undefined) hours[i] |= onDate;
  }
  return hours;
}

/** Each key's hours as `local_hour_users` counts them now, by the key's index. */
async function storedHours(db: Client, keys: UserHoursKey[]): Promise<number[]> {
  const result = await db.execute({
    sql: `SELECT k.key AS i, u.hours FROM json_each(?) k JOIN local_user_hours u
      ON u.rule_id = k.value ->> 0 AND u.local_date = k.value ->> 1
      AND u.time_zone = k.value ->> 2 AND u.user_name = k.value ->> 3`,
    args: [JSON.stringify(keys)],
  });
  const hours = keys.map(() => 0);
  for (const row of result.rows) hours[row.i as number] = row.hours as number;
  return hours;
}

const KEY_IN_JSON = `(rule_id, local_date, time_zone, user_name) IN
  (SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3 FROM json_each(?))`;
const CELL_IN_JSON = `(rule_id, local_date, local_hour, time_zone) IN
  (SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 5 FROM json_each(?))`;

/**
 * The new hours of the keys that changed (`now[i]` against `stored[i]`, 0 for
 * none), and the change in their cells' counts. A rebuild gives every key
 * with nothing stored.
 */
export function userHoursChangeStatements(
  keys: readonly UserHoursKey[],
  now: readonly number[],
  stored: readonly number[],
): InStatement[] {
  const kept: (string | number)[][] = [];
  const gone: UserHoursKey[] = [];
  // Per rule, local date and zone, how each hour's count of users changes:
  // one entry per key rather than one per key and hour.
  const counts = new Map<string, { key: UserHoursKey; change: Int32Array }>();
  keys.forEach((key, i) => {
    const flipped = now[i] ^ stored[i];
    if (flipped === 0) return;
    if (now[i] === 0) gone.push(key);
    else kept.push([...key, now[i]]);
    const [ruleId, date, zone] = key;
    const id = `${ruleId}\u0000${date}\u0000${zone}`;
    let entry = counts.get(id);
    if (!entry) counts.set(id, entry = { key, change: new Int32Array(24) });
    for (let hour = 0; hour < 24; hour++) {
      if ((flipped >>> hour) & 1) entry.change[hour] += (now[i] >>> hour) & 1 ? 1 : -1;
    }
  });
  if (kept.length === 0 && gone.length === 0) return [];
  const changed: [string, string, number, number, number, string][] = [];
  for (const { key: [ruleId, date, zone], change } of counts.values()) {
    const weekday = weekdayOf(date);
    change.forEach((n, hour) => {
      if (n !== 0) changed.push([ruleId, date, hour, weekday, n, zone]);
    });
  }
  const json = JSON.stringify(changed);
  const statements: InStatement[] = [];
  if (kept.length > 0) {
    statements.push({
      sql: `${withJsonRows()}
        INSERT INTO local_user_hours (rule_id, local_date, time_zone, user_name, hours)
        SELECT ${jsonFields(5)} FROM ${JSON_ROWS}
        WHERE true ON CONFLICT DO UPDATE SET hours = excluded.hours`,
      args: [JSON.stringify(kept)],
    });
  }
  if (gone.length > 0) {
    statements.push({
      sql: `DELETE FROM local_user_hours WHERE ${KEY_IN_JSON}`,
      args: [JSON.stringify(gone)],
    });
  }
  statements.push({
    sql: `${withJsonRows()}
        INSERT INTO local_hour_users (rule_id, local_date, local_hour, weekday, users, time_zone)
        SELECT ${jsonFields(6)} FROM ${JSON_ROWS}
        WHERE true ON CONFLICT DO UPDATE SET users = users + excluded.users`,
    args: [json],
  });
  // Only a count that went down can reach 0 (a rebuild only adds).
  if (changed.some((cell) => cell[4] < 0)) {
    statements.push({
      sql: `DELETE FROM local_hour_users WHERE users <= 0 AND ${CELL_IN_JSON}`,
      args: [json],
    });
  }
  return statements;
}
