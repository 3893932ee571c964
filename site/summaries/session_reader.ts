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
 * @module
 */
import type { Client, InValue } from "@libsql/client";
import { dayOf, dayStart } from "../../sync/doc_id.ts";
import { DAY_MS, HOUR_MS, type SummarySession } from "./summary_session.ts";

const COLUMNS = "client_id, session_id, rule_id, user_name, start_ms, end_ms, remote";

/** Sessions that overlap `[from, to)` (a zero-length one, if its instant is in it). */
export async function sessionsInWindow(
  db: Client,
  from: number,
  to: number,
): Promise<SummarySession[]> {
  const overlaps = "(end_ms > ? OR start_ms >= ?)";
  const result = await db.execute({
    sql: `SELECT ${COLUMNS} FROM usage_sessions INDEXED BY usage_by_start
        WHERE start_ms >= ? AND start_ms < ? AND end_ms - start_ms <= ${HOUR_MS} AND ${overlaps}
      UNION ALL
      SELECT ${COLUMNS} FROM usage_sessions INDEXED BY usage_medium
        WHERE end_ms - start_ms > ${HOUR_MS} AND end_ms - start_ms <= ${DAY_MS}
        AND start_ms >= ? AND start_ms < ? AND ${overlaps}
      UNION ALL
      SELECT ${COLUMNS} FROM usage_sessions INDEXED BY usage_long
        WHERE (end_ms IS NULL OR end_ms - start_ms > ${DAY_MS}) AND start_ms < ?
        AND (end_ms IS NULL OR end_ms > ?)`,
    args: [from - HOUR_MS, to, from, from, from - DAY_MS, to, from, from, to, from],
  });
  return result.rows.map(toSession);
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
  const result = await db.execute({
    sql: `SELECT ${COLUMNS} FROM usage_sessions
        WHERE client_id = ? AND session_id > ? AND session_id < ?
      UNION
      SELECT ${COLUMNS} FROM usage_sessions INDEXED BY usage_long_by_client
        WHERE client_id = ? AND (end_ms IS NULL OR end_ms - start_ms > ${DAY_MS}) AND start_ms < ?`,
    args,
  });
  return result.rows.map(toSession);
}

function toSession(row: Record<string, unknown>): SummarySession {
  return {
    clientId: row.client_id as string,
    ruleId: row.rule_id as string,
    user: row.user_name as string,
    start: row.start_ms as number,
    end: row.end_ms as number | null,
    remote: row.remote === 1,
  };
}
