/**
 * Reading the sessions a summary bucket needs, by bounded index ranges:
 *
 * - for a time window, sessions of up to an hour start at most an hour
 *   before it (`usage_by_start`), sessions of up to a day at most a day
 *   before it (`usage_medium`), and longer or still-running ones are few
 *   and indexed on their own (`usage_long`);
 * - for one computer's day, its sessions that started that day or the day
 *   before (the primary key, whose session ids begin with the day), and its
 *   long or running ones (`usage_long_by_client`).
 *
 * Only this site's own clients' sessions count (`OWN`): sessions an agent of
 * a site below left here while its own site was away are summarised there.
 *
 * SQLite folds the rows into one JSON array that is parsed once: three
 * times faster than the client building an object per row, and a day of a
 * large fleet is a few hundred thousand rows.
 *
 * @module
 */
import type { Client, InValue } from "@libsql/client";
import { dayOf, dayStart } from "../../model/doc_id.ts";
import { DAY_MS, HOUR_MS, type SummarySession } from "./summary_session.ts";

const COLUMNS = "client_id, session_id, rule_id, user_name, start_ms, end_ms, remote";
/** This site's own clients (an agent of a site below may have left sessions here). */
export const OWN = "client_id IN (SELECT client_id FROM clients)";

/** The rows of `sql` (selecting {@linkcode COLUMNS}) as sessions, through one JSON array. */
async function read(db: Client, sql: string, args: InValue[]): Promise<SummarySession[]> {
  const result = await db.execute({
    sql: `SELECT json_group_array(json_array(client_id, rule_id, user_name, start_ms, end_ms,
      remote)) AS rows FROM (${sql})`,
    args,
  });
  const rows = JSON.parse(result.rows[0].rows as string) as [
    string,
    string,
    string,
    number,
    number | null,
    number,
  ][];
  return rows.map(([clientId, ruleId, user, start, end, remote]) => ({
    clientId,
    ruleId,
    user,
    start,
    end,
    remote: remote === 1,
  }));
}

/** Sessions that overlap `[from, to)` (a zero-length one, if its instant is in it). */
export async function sessionsInWindow(
  db: Client,
  from: number,
  to: number,
): Promise<SummarySession[]> {
  const overlaps = "(end_ms > ? OR start_ms >= ?)";
  return await read(
    db,
    `SELECT ${COLUMNS} FROM usage_sessions INDEXED BY usage_by_start
        WHERE start_ms >= ? AND start_ms < ? AND end_ms - start_ms <= ${HOUR_MS} AND ${overlaps}
        AND ${OWN}
      UNION ALL
      SELECT ${COLUMNS} FROM usage_sessions INDEXED BY usage_medium
        WHERE end_ms - start_ms > ${HOUR_MS} AND end_ms - start_ms <= ${DAY_MS}
        AND start_ms >= ? AND start_ms < ? AND ${overlaps} AND ${OWN}
      UNION ALL
      SELECT ${COLUMNS} FROM usage_sessions INDEXED BY usage_long
        WHERE (end_ms IS NULL OR end_ms - start_ms > ${DAY_MS}) AND start_ms < ?
        AND (end_ms IS NULL OR end_ms > ?) AND ${OWN}`,
    [from - HOUR_MS, to, from, from, from - DAY_MS, to, from, from, to, from],
  );
}

/** One computer's sessions that may overlap a UTC day. */
export async function clientSessionsOfDay(
  db: Client,
  clientId: string,
  day: string,
): Promise<SummarySession[]> {
  const from = dayStart(day);
  const args: InValue[] = [
    clientId,
    `${dayOf(from - DAY_MS)}/`,
    `${day}0`,
    clientId,
    from + DAY_MS,
  ];
  return await read(
    db,
    `SELECT ${COLUMNS} FROM usage_sessions
        WHERE client_id = ? AND session_id > ? AND session_id < ?
      UNION
      SELECT ${COLUMNS} FROM usage_sessions INDEXED BY usage_long_by_client
        WHERE client_id = ? AND (end_ms IS NULL OR end_ms - start_ms > ${DAY_MS}) AND start_ms < ?`,
    args,
  );
}
