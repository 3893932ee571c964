/**
 * The audit log: every request the site refuses for who sent it (401, 403)
 * is kept with its time, the peer's address, the endpoint and the reason, so
 * an administrator can see who tried what (`GET /v1/audit`). Reasons never
 * hold a secret: they say "unknown token" or "token revoked", not the token.
 * Entries are kept as long as summaries (`summaryRetentionDays`).
 *
 * @module
 */
import type { Context } from "hono";
import { peerAddress } from "./peer_address.ts";
import type { Client } from "../sync/db.ts";
import { log } from "../sync/log.ts";

export const auditSchema = [
  `CREATE TABLE IF NOT EXISTS audit_log (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    peer TEXT NOT NULL,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    status INTEGER NOT NULL,
    code TEXT NOT NULL,
    reason TEXT NOT NULL
  )`,
  `CREATE INDEX IF NOT EXISTS audit_log_by_time ON audit_log (at)`,
] as const;

export interface AuditEntry {
  at: number;
  peer: string;
  method: string;
  path: string;
  status: number;
  code: string;
  reason: string;
}

export const AUDIT_COLUMNS = ["at", "peer", "method", "path", "status", "code", "reason"] as const;

/** Records a refusal; a failure to record is logged, never the request's error. */
export async function recordRefusal(db: Client, entry: AuditEntry): Promise<void> {
  try {
    await db.execute({
      sql: `INSERT INTO audit_log (at, peer, method, path, status, code, reason)
        VALUES (?, ?, ?, ?, ?, ?, ?)`,
      args: [
        entry.at,
        entry.peer,
        entry.method,
        entry.path.slice(0, 500),
        entry.status,
        entry.code,
        entry.reason.slice(0, 1000),
      ],
    });
  } catch (error) {
    log.error("recording a refused request failed", { error });
  }
}

/** The newest entries first, at most `limit`, since an instant if given. */
export async function readAudit(db: Client, limit: number, since = 0) {
  const result = await db.execute({
    sql: `SELECT at, peer, method, path, status, code, reason FROM audit_log
      WHERE at >= ? ORDER BY at DESC, id DESC LIMIT ?`,
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
  }));
}

/** Records the refusal of the request `c`: its peer, method and path, and why. */
export async function recordRequestRefusal(
  db: Client,
  c: Context,
  refusal: { status: number; code: string; reason: string },
): Promise<void> {
  await recordRefusal(db, {
    at: Date.now(),
    peer: peerAddress(c.env),
    method: c.req.method,
    path: c.req.path,
    ...refusal,
  });
}
