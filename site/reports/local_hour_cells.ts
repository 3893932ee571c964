/**
 * The local-hour users a time-of-day report reads: this site's own
 * (`local_hour_users`) when it covers everything, and those of the sites
 * below in its scope (`site_local_hour_users`: people at different sites are
 * different people, so their users are added). Both are kept per time zone,
 * so each row is counted in the window of its own zone's calendar.
 *
 * @module
 */
import type { Client } from "../../store/db.ts";
import type { LocalCalendar } from "./local_calendars.ts";
import type { Scope } from "./report_scope.ts";

/** `?1` rule, `?2`..`?3` local dates, `?4` the scope's sites (null: everything). */
const ROWS = `SELECT time_zone, local_date, weekday, local_hour, users FROM local_hour_users
    WHERE rule_id = ?1 AND local_date BETWEEN ?2 AND ?3 AND ?4 IS NULL
  UNION ALL SELECT time_zone, local_date, weekday, local_hour, users FROM site_local_hour_users
    WHERE rule_id = ?1 AND local_date BETWEEN ?2 AND ?3
      AND (?4 IS NULL OR site_code IN (SELECT value FROM json_each(?4)))`;

const scopeArg = (scope: Scope) => scope.code === undefined ? null : JSON.stringify(scope.codes);

/**
 * The time zones a report covers: its computers' (this site's own and those
 * the sites below named) and those of its rows between two local dates (a
 * computer may have moved, or gone, since).
 */
export async function zonesCovered(
  db: Client,
  rule: string,
  scope: Scope,
  { firstDate, lastDate }: { firstDate: string; lastDate: string },
): Promise<string[]> {
  const result = await db.execute({
    sql: `SELECT time_zone FROM clients WHERE ?4 IS NULL
      UNION SELECT time_zone FROM descendant_clients
        WHERE ?4 IS NULL OR site_code IN (SELECT value FROM json_each(?4))
      UNION SELECT time_zone FROM (${ROWS})`,
    args: [rule, firstDate, lastDate, scopeArg(scope)],
  });
  return result.rows.map((r) => r.time_zone as string);
}

/**
 * `users[weekday - 1][hour]` summed over a calendar's window, for the zones
 * on it: one range of the key per calendar, its zones looked up in an index
 * SQLite builds for the `IN` list.
 */
export async function usersOnCalendar(
  db: Client,
  rule: string,
  scope: Scope,
  calendar: LocalCalendar,
): Promise<number[][]> {
  const result = await db.execute({
    sql: `SELECT weekday, local_hour, sum(users) AS users FROM (${ROWS})
      WHERE time_zone IN (SELECT value FROM json_each(?5)) GROUP BY weekday, local_hour`,
    args: [
      rule,
      calendar.firstDate,
      calendar.lastDate,
      scopeArg(scope),
      JSON.stringify(calendar.timeZones),
    ],
  });
  const users = Array.from({ length: 7 }, () => Array<number>(24).fill(0));
  for (const r of result.rows) {
    users[(r.weekday as number) - 1][r.local_hour as number] = Number(r.users);
  }
  return users;
}
