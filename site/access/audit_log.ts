/**
 * The audit log: every request the site refuses for who sent it (401, 403,
 * and the 429 of a peer past `unauthenticatedRequestsPerMinute`, see
 * `refusals.ts`) is kept with its time, the peer's address, the endpoint and
 * the reason, and so is every token created or revoked over the API, so an
 * administrator can see who tried and who did what (`GET /v1/audit`).
 * Reasons never hold a secret: they say "unknown token" or "created viewer
 * token abc by token xyz", not the token. Entries are kept as long as
 * summaries (`summaryRetentionDays`).
 *
 * Repeated refusals are collapsed, or a flood of bad requests would cost a
 * row and a transaction each (5,000 bad tokens in 2 s once added 5,000 rows
 * and 49 MB): the refusals of one kind (peer, method, route, status, code,
 * reason) in one ten-minute window share a row, which counts them (`count`)
 * and keeps the first (`at`) and last (`lastAt`) time. The first is written
 * at once, so a refusal is in the log as soon as it is answered; the counts
 * of its repeats are kept in memory and written every few seconds, before
 * the log is read, and when the site stops. The route (`/v1/tokens/:id`),
 * not the path, makes the kind, so a flood over made-up paths collapses
 * too; the row shows the first request's path.
 *
 * @module
 */
import type { Context } from "hono";
import { routePath } from "hono/route";
import { peerAddress } from "../http/peer_address.ts";
import type { Client } from "../../store/db.ts";
import { log } from "../../lib/log.ts";
import { Mutex } from "../../lib/mutex.ts";

export const auditSchema = [
  `CREATE TABLE IF NOT EXISTS audit_log (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    peer TEXT NOT NULL,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    status INTEGER NOT NULL,
    code TEXT NOT NULL,
    reason TEXT NOT NULL,
    count INTEGER NOT NULL DEFAULT 1,
    last_at INTEGER
  )`,
  `CREATE INDEX IF NOT EXISTS audit_log_by_time ON audit_log (at)`,
] as const;

/** What happened to a request: its status, a code and why, in words. */
export interface AuditEvent {
  status: number;
  code: string;
  reason: string;
}

export interface AuditEntry extends AuditEvent {
  at: number;
  peer: string;
  method: string;
  path: string;
  /** The route the path matched, e.g. `/v1/tokens/:id`: refusals collapse by route. */
  route: string;
}

export const AUDIT_COLUMNS = [
  "at",
  "peer",
  "method",
  "path",
  "status",
  "code",
  "reason",
  "count",
  "lastAt",
] as const;

/** Refusals of one kind within this long of each other, window by window, share a row. */
const WINDOW_MS = 600_000;
/** Kinds followed at once at most; past it, a refusal of a new kind gets a row of its own. */
const MAX_OPEN = 10_000;

/** A row still counting the refusals of its kind in its window. */
interface OpenRow {
  id: Promise<number | undefined>;
  window: number;
  count: number;
  lastAt: number;
  /** The count the row holds in the database. */
  written: number;
}

export class AuditLog {
  readonly #db: Client;
  readonly #open = new Map<string, OpenRow>();
  /** Two flushes at once could write an older count over a newer one. */
  readonly #flushing = new Mutex();

  constructor(db: Client) {
    this.#db = db;
  }

  /** Records a refusal: on the open row of its kind, or on a new row. */
  async refused(entry: AuditEntry): Promise<void> {
    const window = Math.floor(entry.at / WINDOW_MS);
    const key = JSON.stringify([
      entry.peer,
      entry.method,
      entry.route,
      entry.status,
      entry.code,
      entry.reason,
      window,
    ]);
    const open = this.#open.get(key);
    if (open) {
      open.count++;
      open.lastAt = Math.max(open.lastAt, entry.at);
      return;
    }
    const id = this.#insert(entry);
    if (this.#open.size < MAX_OPEN) {
      this.#open.set(key, { id, window, count: 1, lastAt: entry.at, written: 1 });
    }
    await id;
  }

  /** Records an event on a row of its own: a change to credentials. */
  async record(entry: AuditEntry): Promise<void> {
    await this.#insert(entry);
  }

  /** Writes the counts of repeats, and forgets the rows whose window is over. */
  flush(now = Date.now()): Promise<void> {
    return this.#flushing.run(() => this.#flush(now));
  }

  /** The newest entries first (by their last time), at most `limit`, since an instant if given. */
  async read(limit: number, since = 0) {
    await this.flush();
    const result = await this.#db.execute({
      sql: `SELECT at, peer, method, path, status, code, reason, count,
        coalesce(last_at, at) AS last_at FROM audit_log
        WHERE coalesce(last_at, at) >= ? ORDER BY coalesce(last_at, at) DESC, id DESC LIMIT ?`,
      args: [since, limit],
    });
    return result.rows.map((r) => ({
      at: new Date(r.at as number).toISOString(),
      peer: r.peer as string,
      method: r.method as string,
      path: r.path as string,
      status: r.status as number,
      code: r.code as string,
      reason: r.reason as string,
      count: r.count as number,
      lastAt: new Date(r.last_at as number).toISOString(),
    }));
  }

  async #flush(now: number): Promise<void> {
    const dirty = [...this.#open.values()]
      .filter((row) => row.count > row.written)
      .map((row) => ({ row, count: row.count, lastAt: row.lastAt }));
    try {
      const updates = [];
      for (const { row, count, lastAt } of dirty) {
        const id = await row.id;
        if (id === undefined) continue; // its insert failed, and was logged
        updates.push({
          sql: "UPDATE audit_log SET count = ?, last_at = ? WHERE id = ?",
          args: [count, lastAt, id],
        });
      }
      if (updates.length > 0) await this.#db.batch(updates, "write");
      for (const { row, count } of dirty) row.written = count;
    } catch (error) {
      log.error("recording repeated refusals failed; will retry", { error });
      return;
    }
    const current = Math.floor(now / WINDOW_MS);
    for (const [key, row] of this.#open) {
      if (row.window < current && row.written === row.count) this.#open.delete(key);
    }
  }

  /** Inserts a row; a failure is logged, never the request's error. */
  async #insert(entry: AuditEntry): Promise<number | undefined> {
    try {
      const result = await this.#db.execute({
        sql: `INSERT INTO audit_log (at, peer, method, path, status, code, reason, count, last_at)
          VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?)`,
        args: [
          entry.at,
          entry.peer,
          entry.method,
          entry.path.slice(0, 500),
          entry.status,
          entry.code,
          entry.reason.slice(0, 1000),
          entry.at,
        ],
      });
      return Number(result.lastInsertRowid);
    } catch (error) {
      log.error("recording an audit entry failed", { error });
      return undefined;
    }
  }
}

/** The audit entry of the request `c`: its time, peer, method, path and route, and `event`. */
export function auditEntry(c: Context, event: AuditEvent): AuditEntry {
  return {
    at: Date.now(),
    peer: peerAddress(c.env),
    method: c.req.method,
    path: c.req.path,
    route: routePath(c, -1),
    ...event,
  };
}
