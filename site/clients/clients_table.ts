/**
 * The `clients` table, one row per enrolled computer, and every statement
 * that writes it or reads it plainly: enrolment, the facts its inventory
 * reports, when it last synced and last recorded usage, listings and counts.
 *
 * Other modules go through these functions. Where a statement of theirs must
 * stay one SQL statement (for atomicity, or because a subquery is much
 * faster than a round trip), they use the exported SQL fragments, which say
 * what "a client of this site" means in one place. Read-only reports and the
 * query views may still join `clients` as a plain table.
 *
 * @module
 */
import type { InValue } from "@libsql/client";
import type { Client, InStatement } from "../../store/db.ts";
import type { ClientFacts } from "../../model/client_facts.ts";

export const clientsSchema = [
  `CREATE TABLE IF NOT EXISTS clients (
    client_id TEXT PRIMARY KEY,
    host_name TEXT NOT NULL DEFAULT '',
    os_name TEXT NOT NULL DEFAULT '',
    os_version TEXT NOT NULL DEFAULT '',
    kernel TEXT NOT NULL DEFAULT '',
    arch TEXT NOT NULL DEFAULT '',
    time_zone TEXT NOT NULL DEFAULT 'UTC',
    agent_version TEXT NOT NULL DEFAULT '',
    enrolled_at INTEGER NOT NULL,
    enrolled_with TEXT NOT NULL,
    last_sync_at INTEGER,
    last_usage_at INTEGER,
    clock_offset_ms INTEGER,
    clock_checked_at INTEGER
  )`,
] as const;

/** A statement and its bound values, to be spliced into a larger one. */
export interface Fragment {
  sql: string;
  args: InValue[];
}

/** The ids of this site's own clients, as a subquery for `column IN (...)`. */
export const OWN_CLIENT_IDS = "SELECT client_id FROM clients";

/**
 * `column` names one of this site's own clients (not an agent of a site
 * below that left something here while its own site was away).
 */
export function inOwnClients(column: string): string {
  return `${column} IN (${OWN_CLIENT_IDS})`;
}

/**
 * The same condition for a value that is not a plain column (a bound
 * parameter, a `json_each` field): an indexed lookup per value.
 */
export function isOwnClient(value: string): string {
  return `EXISTS (SELECT 1 FROM clients WHERE client_id = ${value})`;
}

/** What enrolment writes of a new client; the facts follow with its first inventory. */
export interface NewClient {
  clientId: string;
  hostName: string;
  enrolledAt: number;
  /** The id of the enrolment token used. */
  enrolledWith: string;
}

export function insertClientStatement(client: NewClient): InStatement {
  return {
    sql: `INSERT INTO clients (client_id, host_name, enrolled_at, enrolled_with)
          VALUES (?, ?, ?, ?)`,
    args: [client.clientId, client.hostName, client.enrolledAt, client.enrolledWith],
  };
}

/**
 * `count` made-up clients for a benchmark, in one statement: ids from the
 * `printf` format `idFormat` and host names `host-N`, for N from 0.
 */
export function generatedClientsStatement(
  count: number,
  idFormat: string,
  enrolledAt: number,
): InStatement {
  return {
    sql: `INSERT INTO clients (client_id, host_name, enrolled_at, enrolled_with)
      WITH RECURSIVE c(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM c WHERE n + 1 < ?)
      SELECT printf(?, n), 'host-' || n, ?, 'bench' FROM c`,
    args: [count, idFormat, enrolledAt],
  };
}

/** Every column of a row, for writing a whole fleet's rows at once. */
export type ClientRowValues = [
  clientId: string,
  hostName: string,
  osName: string,
  osVersion: string,
  kernel: string,
  arch: string,
  timeZone: string,
  agentVersion: string,
  enrolledAt: number,
  enrolledWith: string,
  lastSyncAt: number | null,
  lastUsageAt: number | null,
];

const ROW_COLUMNS = [
  "client_id",
  "host_name",
  "os_name",
  "os_version",
  "kernel",
  "arch",
  "time_zone",
  "agent_version",
  "enrolled_at",
  "enrolled_with",
  "last_sync_at",
  "last_usage_at",
];

/** Whole rows in one statement (a benchmark's fleet), passed as one JSON array. */
export function insertClientRowsStatement(rows: ClientRowValues[]): InStatement {
  return {
    sql: `INSERT INTO clients (${ROW_COLUMNS.join(", ")}) SELECT ${
      ROW_COLUMNS.map((_, i) => `value ->> ${i}`).join(", ")
    } FROM json_each(?)`,
    args: [JSON.stringify(rows)],
  };
}

/** The facts an agent's inventory reports, replacing those it reported before. */
export function factsStatement(clientId: string, facts: ClientFacts): InStatement {
  return {
    sql: `UPDATE clients SET host_name = ?, os_name = ?, os_version = ?, kernel = ?, arch = ?,
      time_zone = ?, agent_version = ? WHERE client_id = ?`,
    args: [
      facts.hostName,
      facts.osName,
      facts.osVersion,
      facts.kernel,
      facts.arch,
      facts.timeZone,
      facts.agentVersion,
      clientId,
    ],
  };
}

/**
 * A sync at `at`, never moving the time back (batches may be flushed out of
 * order); the clock offset, and when it was measured, only when measured.
 */
export function lastSyncStatement(
  clientId: string,
  at: number,
  clockOffsetMs: number | undefined,
): InStatement {
  return {
    sql: `UPDATE clients SET last_sync_at = max(coalesce(last_sync_at, 0), ?1),
            clock_offset_ms = coalesce(?2, clock_offset_ms),
            clock_checked_at = CASE WHEN ?2 IS NULL THEN clock_checked_at ELSE ?1 END
            WHERE client_id = ?3`,
    args: [at, clockOffsetMs ?? null, clientId],
  };
}

/** Usage recorded until `at`; a late document of older usage does not move it back. */
export function lastUsageStatement(clientId: string, at: number): InStatement {
  return {
    sql:
      "UPDATE clients SET last_usage_at = max(coalesce(last_usage_at, 0), ?) WHERE client_id = ?",
    args: [at, clientId],
  };
}

/** A client's row as stored: times in ms since the epoch. */
export interface ClientRow {
  clientId: string;
  hostName: string;
  osName: string;
  osVersion: string;
  kernel: string;
  arch: string;
  timeZone: string;
  agentVersion: string;
  enrolledAt: number;
  lastSyncAt: number | null;
  lastUsageAt: number | null;
  clockOffsetMs: number | null;
  clockCheckedAt: number | null;
}

/** Every client by host name, or only `clientId`'s. */
export async function listClientRows(db: Client, clientId?: string): Promise<ClientRow[]> {
  const result = await db.execute({
    sql: `SELECT * FROM clients ${clientId === undefined ? "" : "WHERE client_id = ?"}
      ORDER BY host_name, client_id`,
    args: clientId === undefined ? [] : [clientId],
  });
  return result.rows.map((row) => ({
    clientId: row.client_id as string,
    hostName: row.host_name as string,
    osName: row.os_name as string,
    osVersion: row.os_version as string,
    kernel: row.kernel as string,
    arch: row.arch as string,
    timeZone: row.time_zone as string,
    agentVersion: row.agent_version as string,
    enrolledAt: row.enrolled_at as number,
    lastSyncAt: row.last_sync_at as number | null,
    lastUsageAt: row.last_usage_at as number | null,
    clockOffsetMs: row.clock_offset_ms as number | null,
    clockCheckedAt: row.clock_checked_at as number | null,
  }));
}

/**
 * The clients for which `condition` (on the row `c`) holds, by host name:
 * what a collection's members are.
 */
export function clientsWhereStatement(condition: Fragment): InStatement {
  return {
    sql: `SELECT c.client_id, c.host_name, c.time_zone, c.last_sync_at FROM clients c
      WHERE ${condition.sql} ORDER BY c.host_name, c.client_id`,
    args: condition.args,
  };
}

export async function countClients(db: Client): Promise<number> {
  return Number((await db.execute("SELECT count(*) AS n FROM clients")).rows[0].n);
}

/** All clients, and those that synced at or after `since`. */
export async function countOnline(
  db: Client,
  since: number,
): Promise<{ total: number; online: number }> {
  const result = await db.execute({
    sql: `SELECT count(*) AS total, coalesce(sum(last_sync_at >= ?), 0) AS online FROM clients`,
    args: [since],
  });
  return { total: result.rows[0].total as number, online: result.rows[0].online as number };
}

/** Clients that reported installed software at least once. */
export async function countInventoried(db: Client): Promise<number> {
  const result = await db.execute(
    `SELECT count(*) AS n FROM clients c
    WHERE EXISTS (SELECT 1 FROM software s WHERE s.client_id = c.client_id)`,
  );
  return Number(result.rows[0].n);
}

export async function allClientIds(db: Client): Promise<string[]> {
  return (await db.execute("SELECT client_id FROM clients")).rows.map((r) => r.client_id as string);
}

/** A client's name and time zone, as told to a parent site and used for local hours. */
export interface ClientPlace {
  clientId: string;
  hostName: string;
  timeZone: string;
}

/** The clients among `ids`, a subquery selecting client ids (one column). */
export async function clientPlaces(db: Client, ids: Fragment): Promise<ClientPlace[]> {
  const result = await db.execute({
    sql: `SELECT client_id, host_name, time_zone FROM clients WHERE client_id IN
        (${ids.sql})`,
    args: ids.args,
  });
  return result.rows.map((r) => ({
    clientId: r.client_id as string,
    hostName: r.host_name as string,
    timeZone: r.time_zone as string,
  }));
}

/** The time zones of the clients among `clientIds`. */
export async function timeZonesOf(db: Client, clientIds: string[]): Promise<Map<string, string>> {
  const places = await clientPlaces(db, {
    sql: "SELECT value FROM json_each(?)",
    args: [JSON.stringify(clientIds)],
  });
  return new Map(places.map((p) => [p.clientId, p.timeZone]));
}
