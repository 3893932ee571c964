/**
 * The `usage_sessions` table, one row per program run an agent recorded, and
 * every statement that writes it or reads it plainly: materialisation's
 * upsert and delete, retention's delete, the API's listing, the summariser's
 * bounded reads, and counts.
 *
 * A row names its computer, its user and its program by id
 * (`session_clients`, `session_users`, `session_programs`): a fleet has a
 * few thousand of each and a great many sessions, and the strings were a
 * third of a session's bytes. The rows are `session_rows`; the view
 * `usage_sessions` shows them with the computer's and user's names, and is
 * what reports and tests read. Statements that must pick an index (a view
 * cannot be `INDEXED BY`) read {@linkcode sessionsFrom}, the same join.
 *
 * Every change to a session is also queued in `summary_pending`, in the same
 * statement list, so the summariser learns of it in the same transaction;
 * that is why the writes live together here.
 *
 * @module
 */
import type { InValue } from "@libsql/client";
import type { Client, InStatement } from "../../store/db.ts";
import { SESSION_RUN_COLUMNS_SQL } from "../../store/session_columns.ts";
import { dayOf, dayStart } from "../../model/doc_id.ts";
import { inOwnClients, isOwnClient } from "../clients/clients_table.ts";

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/**
 * What ran, apart from the run: a session names its program (executable,
 * argv[0], version, language) by id. A fleet runs a few thousand programs
 * and each a great many times, and these strings were a third of a
 * session's bytes. `key` is the four values as a JSON array, unique: a
 * `UNIQUE` over the columns would let rows with a null version repeat.
 */
export const SESSION_PROGRAMS_TABLE = `CREATE TABLE IF NOT EXISTS session_programs (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    exe TEXT NOT NULL,
    argv0 TEXT NOT NULL,
    version TEXT,
    language TEXT
  )`;

/** Computers by id, as sessions name them: only ever added to, like programs. */
export const SESSION_CLIENTS_TABLE = `CREATE TABLE IF NOT EXISTS session_clients (
    id INTEGER PRIMARY KEY,
    client_id TEXT NOT NULL UNIQUE
  )`;

/** Users by id, as sessions name them. */
export const SESSION_USERS_TABLE = `CREATE TABLE IF NOT EXISTS session_users (
    id INTEGER PRIMARY KEY,
    user_name TEXT NOT NULL UNIQUE
  )`;

/** The sessions with their computer's and user's names: what everything but the writes reads. */
const USAGE_SESSIONS_VIEW = `CREATE VIEW IF NOT EXISTS usage_sessions AS
  SELECT c.client_id, s.session_id, s.rule_id, u.user_name, s.program_id, s.pid, s.start_ms,
    s.end_ms, s.start_not_captured, s.end_not_captured, s.remote, s.updated_at,
    s.clock_offset_ms
  FROM session_rows s JOIN session_clients c ON c.id = s.client_key
  JOIN session_users u ON u.id = s.user_key`;

export const sessionsSchema = [
  SESSION_PROGRAMS_TABLE,
  SESSION_CLIENTS_TABLE,
  SESSION_USERS_TABLE,
  `CREATE TABLE IF NOT EXISTS session_rows (
    client_key INTEGER NOT NULL,
    session_id TEXT NOT NULL,
    rule_id TEXT NOT NULL,
    user_key INTEGER NOT NULL,
    program_id INTEGER NOT NULL,
    ${SESSION_RUN_COLUMNS_SQL},
    updated_at INTEGER NOT NULL,
    clock_offset_ms INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (client_key, session_id)
  )`,
  `CREATE INDEX IF NOT EXISTS usage_by_start ON session_rows (start_ms)`,
  `CREATE INDEX IF NOT EXISTS usage_by_rule ON session_rows (rule_id, start_ms)`,
  `CREATE INDEX IF NOT EXISTS usage_by_user ON session_rows (user_key, start_ms)`,
  // Sessions by duration, so that the sessions overlapping a time window are
  // found by bounded ranges: short ones (up to an hour) start at most an
  // hour before it, medium ones (up to a day) a day before; long and running
  // ones are few and indexed on their own.
  `CREATE INDEX IF NOT EXISTS usage_medium ON session_rows (start_ms)
    WHERE end_ms - start_ms > 3600000 AND end_ms - start_ms <= 86400000`,
  `CREATE INDEX IF NOT EXISTS usage_long ON session_rows (start_ms)
    WHERE end_ms IS NULL OR end_ms - start_ms > 86400000`,
  `CREATE INDEX IF NOT EXISTS usage_long_by_client ON session_rows (client_key, start_ms)
    WHERE end_ms IS NULL OR end_ms - start_ms > 86400000`,
  USAGE_SESSIONS_VIEW,
] as const;

/**
 * The sessions as `usage_sessions` shows them, read through `index` of
 * `session_rows` (aliased `s`): its columns by their names, the computer's
 * `client_id` and the user's `user_name`.
 */
export function sessionsFrom(index?: string): string {
  return `session_rows s ${index ? `INDEXED BY ${index}` : ""}
    JOIN session_clients c ON c.id = s.client_key JOIN session_users u ON u.id = s.user_key`;
}

/** A statement on sessions with its bound values (a query may be wrapped by its reader). */
export interface SessionQuery {
  sql: string;
  args: InValue[];
}

/** The columns of a row, in the order of {@linkcode SessionRowValues}. */
export const SESSION_ROW_COLUMNS = [
  "client_id",
  "session_id",
  "rule_id",
  "user_name",
  "exe",
  "argv0",
  "version",
  "pid",
  "start_ms",
  "end_ms",
  "start_not_captured",
  "end_not_captured",
  "remote",
  "updated_at",
  "clock_offset_ms",
  "language",
] as const;

/** A row's values, in the order of {@linkcode SESSION_ROW_COLUMNS}; flags are 0 or 1. */
export type SessionRowValues = [
  clientId: string,
  sessionId: string,
  ruleId: string,
  user: string,
  exe: string,
  argv0: string,
  version: string | null,
  pid: number,
  startMs: number,
  endMs: number | null,
  startNotCaptured: number,
  endNotCaptured: number,
  remote: number,
  updatedAt: number,
  clockOffsetMs: number,
  language: string | null,
];

/** The columns a row of `session_rows` holds, each as read from a row of `json_each` `j`. */
const STORED = [
  ["client_key", "c.id"],
  ["session_id", 1],
  ["rule_id", 2],
  ["user_key", "n.id"],
  ["program_id", "p.id"],
  ["pid", 7],
  ["start_ms", 8],
  ["end_ms", 9],
  ["start_not_captured", 10],
  ["end_not_captured", 11],
  ["remote", 12],
  ["updated_at", 13],
  ["clock_offset_ms", 14],
] as const;
/** The columns of `session_rows`, in the order rows are written. */
export const STORED_SESSION_COLUMNS: readonly string[] = STORED.map(([column]) => column);
const STORED_COLUMNS = STORED_SESSION_COLUMNS.join(", ");

/** A row's program as `session_programs.key` holds it. */
const PROGRAM_KEY = "json_array(j.value ->> 4, j.value ->> 5, j.value ->> 6, j.value ->> 15)";

/** Each row's values as stored, its computer, user and program found by name. */
const FROM_JSON = `SELECT ${
  STORED.map(([, from]) => typeof from === "number" ? `j.value ->> ${from}` : from).join(", ")
} FROM json_each(?) j JOIN session_programs p ON p.key = ${PROGRAM_KEY}
  JOIN session_clients c ON c.client_id = j.value ->> 0
  JOIN session_users n ON n.user_name = j.value ->> 3`;

/** Adds the computers, users and programs of rows that are not there yet. */
const NAMES_SQL = [
  `INSERT OR IGNORE INTO session_clients (client_id)
    SELECT DISTINCT j.value ->> 0 FROM json_each(?) j`,
  `INSERT OR IGNORE INTO session_users (user_name)
    SELECT DISTINCT j.value ->> 3 FROM json_each(?) j`,
  `INSERT OR IGNORE INTO session_programs (key, exe, argv0, version, language)
    SELECT DISTINCT ${PROGRAM_KEY}, j.value ->> 4, j.value ->> 5, j.value ->> 6, j.value ->> 15
    FROM json_each(?) j`,
];

/** The id of the computer named `name` (an expression), NULL when none has it. */
const clientKeyOf = (name: string) => `(SELECT id FROM session_clients WHERE client_id = ${name})`;

/**
 * Only this site's own clients are summarised here: sessions an agent of a
 * site below left here while its own site was away are kept, and counted
 * once, through its own site's summaries when it syncs there again.
 *
 * A session that changes is queued as it is now and, when its rule changed
 * or it ended before and its times moved, as it was: a run cut short, or
 * moved by a clock correction, leaves hours that must be counted again
 * without it, and the summaries recount an hour only for the rules queued.
 * A running session counts as known only under the same rule: under a new
 * one, none of its hours were counted yet.
 */
const PENDING_SQL = `WITH seen AS MATERIALIZED (
    SELECT j.value ->> 2 AS rule_id, j.value ->> 0 AS client_id, j.value ->> 8 AS start_ms,
      j.value ->> 9 AS end_ms,
      u.session_id IS NOT NULL AND u.end_ms IS NULL AND u.rule_id IS j.value ->> 2 AS was_running,
      u.rule_id AS old_rule, u.start_ms AS old_start, u.end_ms AS old_end
    FROM json_each(?) j LEFT JOIN session_rows u
      ON u.client_key = ${clientKeyOf("j.value ->> 0")} AND u.session_id = j.value ->> 1
    WHERE ${isOwnClient("j.value ->> 0")})
  INSERT INTO summary_pending (rule_id, client_id, start_ms, end_ms, was_running)
  SELECT rule_id, client_id, start_ms, end_ms, was_running FROM seen
  UNION ALL
  SELECT old_rule, client_id, old_start, old_end, old_end IS NULL FROM seen
  WHERE old_rule IS NOT NULL AND (old_rule IS NOT rule_id
    OR (old_end IS NOT NULL AND (old_start IS NOT start_ms OR old_end IS NOT end_ms)))`;

const UPSERT_SQL = `INSERT INTO session_rows (${STORED_COLUMNS})
  ${FROM_JSON} WHERE true
  ON CONFLICT (client_key, session_id) DO UPDATE SET
  ${STORED.slice(2).map(([c]) => `${c} = excluded.${c}`).join(", ")}`;

/**
 * Writes sessions, new or changed. One statement for all of them, their
 * values passed as one JSON array and spread by `json_each`: a short
 * statement with one parameter is cheaper to prepare and bind than one with
 * fifteen per row. The summaries learn of every change, and of whether the
 * session was known as running before (its summarised time then reached
 * further), so the queueing statement must run first; new computers, users
 * and programs are added before the rows that name them.
 */
export function upsertSessionsStatements(rows: SessionRowValues[]): InStatement[] {
  if (rows.length === 0) return [];
  const json = JSON.stringify(rows);
  return [
    ...NAMES_SQL.map((sql) => ({ sql, args: [json] })),
    { sql: PENDING_SQL, args: [json] },
    { sql: UPSERT_SQL, args: [json] },
  ];
}

/** Deletes a client's sessions, queueing them for the summaries first. */
export function deleteSessionsStatements(clientId: string, sessionIds: string[]): InStatement[] {
  if (sessionIds.length === 0) return [];
  const ids = sessionIds.map(() => "?").join(",");
  const inGone = `client_key = ${clientKeyOf("?")} AND session_id IN (${ids})`;
  return [
    {
      sql: `INSERT INTO summary_pending (rule_id, client_id, start_ms, end_ms)
          SELECT rule_id, ?, start_ms, end_ms FROM session_rows WHERE ${inGone}
            AND ${isOwnClient("?")}`,
      args: [clientId, clientId, ...sessionIds, clientId],
    },
    { sql: `DELETE FROM session_rows WHERE ${inGone}`, args: [clientId, ...sessionIds] },
  ];
}

/**
 * Rows written as they are, with no summary queued: a benchmark's history,
 * summarised from scratch afterwards.
 */
export function insertSessionRowsStatements(rows: SessionRowValues[]): InStatement[] {
  const json = JSON.stringify(rows);
  return [
    ...NAMES_SQL.map((sql) => ({ sql, args: [json] })),
    { sql: `INSERT INTO session_rows (${STORED_COLUMNS}) ${FROM_JSON}`, args: [json] },
  ];
}

/**
 * Deletes up to `limit` sessions that ended before `cutoff` (a still-running
 * one is kept however old): a bounded batch, so retention's transactions
 * stay short.
 */
export function deleteEndedBeforeStatement(cutoff: number, limit: number): SessionQuery {
  return {
    sql: `DELETE FROM session_rows WHERE rowid IN (SELECT rowid FROM session_rows
        WHERE start_ms < ? AND end_ms < ? LIMIT ${limit})`,
    args: [cutoff, cutoff],
  };
}

/**
 * Deletes up to `limit` computers' and users' names that no session names
 * any more (retention left none of theirs): one statement each, each a
 * lookup per name by the key's index. Programs stay: they name software,
 * not people, and no index would find their sessions.
 */
export function deleteUnusedNamesStatements(limit: number): string[] {
  return [["session_clients", "client_key"], ["session_users", "user_key"]].map(
    ([table, key]) =>
      `DELETE FROM ${table} WHERE id IN (SELECT id FROM ${table} n
        WHERE NOT EXISTS (SELECT 1 FROM session_rows s WHERE s.${key} = n.id) LIMIT ${limit})`,
  );
}

/** Which sessions a page lists, and from where; a session overlapping `[from, to)` counts. */
export interface SessionFilter {
  rule?: string;
  client?: string;
  user?: string;
  from?: number;
  to?: number;
  /** The key (start, client, session) of the last row of the page before. */
  after?: [number, string, string];
  order: "asc" | "desc";
  limit: number;
}

/** A session as listed, with its computer's host name and its rule's name when known. */
export interface ListedSession {
  clientId: string;
  sessionId: string;
  ruleId: string;
  ruleName: string | null;
  hostName: string | null;
  user: string;
  exe: string;
  argv0: string;
  version: string | null;
  language: string | null;
  pid: number;
  startMs: number;
  endMs: number | null;
  startNotCaptured: boolean;
  endNotCaptured: boolean;
  remote: boolean;
  clockOffsetMs: number;
}

/** Sessions by start time (then client and session id), `filter.limit` at most. */
export async function listSessionRows(db: Client, filter: SessionFilter): Promise<ListedSession[]> {
  const where = sessionConditions(filter);
  const order = filter.order;
  const result = await db.execute({
    sql: `SELECT u.*, p.exe, p.argv0, p.version, p.language, c.host_name, r.name AS rule_name
      FROM usage_sessions u JOIN session_programs p ON p.id = u.program_id
      LEFT JOIN clients c ON c.client_id = u.client_id
      LEFT JOIN rules r ON r.id = u.rule_id
      ${where.sql.length ? `WHERE ${where.sql.join(" AND ")}` : ""}
      ORDER BY u.start_ms ${order}, u.client_id ${order}, u.session_id ${order}
      LIMIT ?`,
    args: [...where.args, filter.limit],
  });
  return result.rows.map((row) => ({
    clientId: row.client_id as string,
    sessionId: row.session_id as string,
    ruleId: row.rule_id as string,
    ruleName: row.rule_name as string | null,
    hostName: row.host_name as string | null,
    user: row.user_name as string,
    exe: row.exe as string,
    argv0: row.argv0 as string,
    version: row.version as string | null,
    language: row.language as string | null,
    pid: row.pid as number,
    startMs: row.start_ms as number,
    endMs: row.end_ms as number | null,
    startNotCaptured: row.start_not_captured === 1,
    endNotCaptured: row.end_not_captured === 1,
    remote: row.remote === 1,
    clockOffsetMs: row.clock_offset_ms as number,
  }));
}

/** The filter's conditions on the row `u`, each with its bound values. */
function sessionConditions(filter: SessionFilter): { sql: string[]; args: InValue[] } {
  const sql: string[] = [];
  const args: InValue[] = [];
  const add = (condition: string, ...values: InValue[]) => {
    sql.push(condition);
    args.push(...values);
  };
  if (filter.rule) add("u.rule_id = ?", filter.rule);
  if (filter.client) add("u.client_id = ?", filter.client);
  if (filter.user) add("u.user_name = ?", filter.user);
  if (filter.to !== undefined) add("u.start_ms < ?", filter.to);
  if (filter.from !== undefined) add("(u.end_ms IS NULL OR u.end_ms >= ?)", filter.from);
  if (filter.after) {
    const after = filter.order === "asc" ? ">" : "<";
    add(`(u.start_ms, u.client_id, u.session_id) ${after} (?, ?, ?)`, ...filter.after);
  }
  return { sql, args };
}

/** This site's own clients' keys in `session_clients`, as a subquery for `client_key IN (...)`. */
const OWN_CLIENT_KEYS = `SELECT id FROM session_clients WHERE ${inOwnClients("client_id")}`;

/**
 * This site's own clients' sessions that overlap `[from, to)` (a zero-length
 * one, if its instant is in it), by bounded index ranges: sessions of up to
 * an hour start at most an hour before it (`usage_by_start`), sessions of up
 * to a day at most a day before it (`usage_medium`), and longer or
 * still-running ones are few and indexed on their own (`usage_long`).
 * Given `rules`, only their sessions: the short ones by `usage_by_rule`,
 * a range per rule, so a few rules of a large fleet's hour read only theirs.
 *
 * `columns` are columns of `session_rows` itself: computers and users by
 * key. Joining their names to each of a large fleet's rows took more time
 * than the rest of the read.
 */
export function windowSessionsQuery(
  columns: string,
  from: number,
  to: number,
  rules?: Iterable<string>,
): SessionQuery {
  const overlaps = "(end_ms > ? OR start_ms >= ?)";
  const own = `client_key IN (${OWN_CLIENT_KEYS})`;
  const ruleList = rules === undefined ? undefined : JSON.stringify([...rules]);
  const ofRules = ruleList === undefined ? "" : "AND rule_id IN (SELECT value FROM json_each(?))";
  const ruleArgs = ruleList === undefined ? [] : [ruleList];
  const shortIndex = ruleList === undefined ? "usage_by_start" : "usage_by_rule";
  return {
    sql: `SELECT ${columns} FROM session_rows INDEXED BY ${shortIndex}
        WHERE start_ms >= ? AND start_ms < ? AND end_ms - start_ms <= ${HOUR_MS} AND ${overlaps}
        AND ${own} ${ofRules}
      UNION ALL
      SELECT ${columns} FROM session_rows INDEXED BY usage_medium
        WHERE end_ms - start_ms > ${HOUR_MS} AND end_ms - start_ms <= ${DAY_MS}
        AND start_ms >= ? AND start_ms < ? AND ${overlaps} AND ${own} ${ofRules}
      UNION ALL
      SELECT ${columns} FROM session_rows INDEXED BY usage_long
        WHERE (end_ms IS NULL OR end_ms - start_ms > ${DAY_MS}) AND start_ms < ?
        AND (end_ms IS NULL OR end_ms > ?) AND ${own} ${ofRules}`,
    args: [
      from - HOUR_MS,
      to,
      from,
      from,
      ...ruleArgs,
      from - DAY_MS,
      to,
      from,
      from,
      ...ruleArgs,
      to,
      from,
      ...ruleArgs,
    ],
  };
}

/**
 * One computer's sessions that may overlap a UTC day: those that started
 * that day or the day before (the primary key, whose session ids begin with
 * the day), and its long or running ones (`usage_long_by_client`).
 * `columns` are columns of `session_rows`, as for {@linkcode windowSessionsQuery}.
 */
export function clientDaySessionsQuery(
  columns: string,
  clientId: string,
  day: string,
): SessionQuery {
  const from = dayStart(day);
  const key = "(SELECT id FROM session_clients WHERE client_id = ?)";
  return {
    sql: `SELECT ${columns} FROM session_rows
        WHERE client_key = ${key} AND session_id > ? AND session_id < ?
      UNION
      SELECT ${columns} FROM session_rows INDEXED BY usage_long_by_client
        WHERE client_key = ${key} AND (end_ms IS NULL OR end_ms - start_ms > ${DAY_MS})
        AND start_ms < ?`,
    args: [clientId, `${dayOf(from - DAY_MS)}/`, `${day}0`, clientId, from + DAY_MS],
  };
}

/** This site's own clients' sessions still running: client, rule and start. */
export async function runningSessionStarts(
  db: Client,
): Promise<{ clientId: string; ruleId: string; startMs: number }[]> {
  const running = await db.execute(
    `SELECT client_id, rule_id, start_ms FROM ${sessionsFrom("usage_long")}
      WHERE end_ms IS NULL AND ${inOwnClients("client_id")}`,
  );
  return running.rows.map((r) => ({
    clientId: r.client_id as string,
    ruleId: r.rule_id as string,
    startMs: r.start_ms as number,
  }));
}

/** When the earliest session stored started; `null` when there is none. */
export async function firstSessionStart(db: Client): Promise<number | null> {
  return (await db.execute("SELECT min(start_ms) AS first FROM session_rows")).rows[0]
    .first as number | null;
}

/**
 * The clients running `rule`'s program now, as a subquery (one column,
 * `client_id`): few rows, through the partial index `usage_long`. The `+`
 * keeps SQLite from choosing `usage_by_rule`, which would read every past
 * session of the rule.
 */
export function runningClientsOfRule(rule: string): SessionQuery {
  return {
    sql: "SELECT client_id FROM usage_sessions WHERE +rule_id = ? AND end_ms IS NULL",
    args: [rule],
  };
}

/** Sessions that started at or after `since`. */
export async function countSessionsSince(db: Client, since: number): Promise<number> {
  const result = await db.execute({
    sql: "SELECT count(*) AS n FROM session_rows WHERE start_ms >= ?",
    args: [since],
  });
  return result.rows[0].n as number;
}
