/**
 * Reading the sessions a summary bucket needs: those of a time window, or
 * of one computer's day, by the bounded index ranges of `sessions_table.ts`.
 *
 * Only this site's own clients' sessions count: sessions an agent of a site
 * below left here while its own site was away are summarised there.
 *
 * SQLite folds the rows into one JSON array that is parsed once: three
 * times faster than the client building an object per row, and a day of a
 * large fleet is a few hundred thousand rows. The rows name their computer
 * and user by key, and the same statement (so the same snapshot) gives the
 * names of just the keys read: joining a name to every row cost more than
 * the rest of the read, and the summariser counts distinct users and
 * computers by key.
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

const COLUMNS = "client_key, session_id, rule_id, user_key, start_ms, end_ms, remote";

type Row = [
  clientKey: number,
  ruleId: string,
  userKey: number,
  start: number,
  end: number | null,
  remote: number,
];

/** The rows of `query` (selecting {@linkcode COLUMNS}) as sessions, with their names. */
async function read(db: Client, query: SessionQuery): Promise<SummarySession[]> {
  const result = await db.execute({
    sql: `WITH q AS MATERIALIZED (${query.sql})
      SELECT (SELECT json_group_array(json_array(client_key, rule_id, user_key, start_ms, end_ms,
          remote)) FROM q) AS rows,
        (SELECT json_group_object(id, client_id) FROM session_clients
          WHERE id IN (SELECT client_key FROM q)) AS clients,
        (SELECT json_group_object(id, user_name) FROM session_users
          WHERE id IN (SELECT user_key FROM q)) AS users`,
    args: query.args,
  });
  const [first] = result.rows;
  const rows = JSON.parse(first.rows as string) as Row[];
  const clients = JSON.parse(first.clients as string) as Record<number, string>;
  const users = JSON.parse(first.users as string) as Record<number, string>;
  return rows.map(([clientKey, ruleId, userKey, start, end, remote]) => ({
    clientKey,
    clientId: clients[clientKey],
    ruleId,
    userKey,
    user: users[userKey],
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
