/**
 * Reading the sessions a summary bucket needs: those of a time window, or
 * of one computer's day, by the bounded index ranges of `sessions_table.ts`.
 *
 * Only this site's own clients' sessions count: sessions an agent of a site
 * below left here while its own site was away are summarised there.
 *
 * SQLite folds the rows into one JSON array that is parsed once: three
 * times faster than the client building an object per row, and a day of a
 * large fleet is a few hundred thousand rows.
 *
 * @module
 */
import type { Client } from "@libsql/client";
import type { SummarySession } from "./summary_session.ts";
import {
  clientDaySessionsQuery,
  type SessionQuery,
  windowSessionsQuery,
} from "../usage/sessions_table.ts";

const COLUMNS = "client_id, session_id, rule_id, user_name, start_ms, end_ms, remote";

/** The rows of `query` (selecting {@linkcode COLUMNS}) as sessions, through one JSON array. */
async function read(db: Client, query: SessionQuery): Promise<SummarySession[]> {
  const result = await db.execute({
    sql: `SELECT json_group_array(json_array(client_id, rule_id, user_name, start_ms, end_ms,
      remote)) AS rows FROM (${query.sql})`,
    args: query.args,
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

/**
 * Sessions that overlap `[from, to)` (a zero-length one, if its instant is
 * in it); given `rules`, only theirs.
 */
export async function sessionsInWindow(
  db: Client,
  from: number,
  to: number,
  rules?: Iterable<string>,
): Promise<SummarySession[]> {
  return await read(db, windowSessionsQuery(COLUMNS, from, to, rules));
}

/** One computer's sessions that may overlap a UTC day. */
export async function clientSessionsOfDay(
  db: Client,
  clientId: string,
  day: string,
): Promise<SummarySession[]> {
  return await read(db, clientDaySessionsQuery(COLUMNS, clientId, day));
}
