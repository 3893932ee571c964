/**
 * Bearer tokens for people and enrolment: created once (the secret is shown
 * once and stored only as a hash), looked up by hash, and refused when
 * revoked, expired or used up.
 *
 * Roles: `admin` edits rules and reads everything, `viewer` reads, `enroll`
 * lets an agent enrol, `site` lets a child site register under this one.
 *
 * @module
 */
import { z } from "zod";
import type { Client } from "../sync/db.ts";
import { hashSecret, newId, newSecret } from "../sync/secret.ts";

export const tokenRoleSchema = z.enum(["admin", "viewer", "enroll", "site"]);
export type TokenRole = z.infer<typeof tokenRoleSchema>;

export interface TokenRecord {
  id: string;
  role: TokenRole;
  label: string;
  createdAt: number;
  expiresAt: number | null;
  usesLeft: number | null;
}

export interface NewToken extends TokenRecord {
  /** The secret to hand out; it is not stored and cannot be shown again. */
  token: string;
}

/** Tokens start with this, so a leaked one is recognisable in a scan. */
const PREFIX = "mtr_";

export async function createToken(
  db: Client,
  role: TokenRole,
  options: { label?: string; expiresAt?: number; uses?: number } = {},
): Promise<NewToken> {
  const token = PREFIX + newSecret();
  const record: TokenRecord = {
    id: newId(8),
    role,
    label: options.label ?? "",
    createdAt: Date.now(),
    expiresAt: options.expiresAt ?? null,
    usesLeft: options.uses ?? null,
  };
  await db.execute({
    sql: `INSERT INTO tokens (id, role, hash, label, created_at, expires_at, uses_left)
      VALUES (?, ?, ?, ?, ?, ?, ?)`,
    args: [
      record.id,
      role,
      hashSecret(token),
      record.label,
      record.createdAt,
      record.expiresAt,
      record.usesLeft,
    ],
  });
  return { ...record, token };
}

/** Why a presented token was refused, or the token when it is good. */
export type TokenCheck =
  | { ok: true; token: TokenRecord }
  | { ok: false; reason: string; wrongRole?: boolean };

/** Checks a presented token against the roles allowed. */
export async function checkToken(
  db: Client,
  presented: string,
  roles: readonly TokenRole[],
  now = Date.now(),
): Promise<TokenCheck> {
  const result = await db.execute({
    sql: `SELECT id, role, label, created_at, expires_at, revoked_at, uses_left
      FROM tokens WHERE hash = ?`,
    args: [hashSecret(presented)],
  });
  const row = result.rows[0];
  if (!row) return { ok: false, reason: "unknown token" };
  if (row.revoked_at !== null) return { ok: false, reason: "token revoked" };
  if (row.expires_at !== null && (row.expires_at as number) <= now) {
    return { ok: false, reason: "token expired" };
  }
  if (row.uses_left !== null && (row.uses_left as number) <= 0) {
    return { ok: false, reason: "token used up" };
  }
  const token = tokenRecord(row);
  if (!roles.includes(token.role)) {
    const article = token.role === "viewer" ? "a" : "an";
    return {
      ok: false,
      reason: `${article} ${token.role} token may not do this (needs ${roles.join(" or ")})`,
      wrongRole: true,
    };
  }
  return { ok: true, token };
}

function tokenRecord(row: Record<string, unknown>): TokenRecord {
  return {
    id: row.id as string,
    role: row.role as TokenRole,
    label: row.label as string,
    createdAt: row.created_at as number,
    expiresAt: row.expires_at as number | null,
    usesLeft: row.uses_left as number | null,
  };
}

/** A token as administrators see it listed: never its secret nor its hash. */
export interface TokenListing extends TokenRecord {
  revokedAt: number | null;
  lastUsedAt: number | null;
}

export async function listTokens(db: Client): Promise<TokenListing[]> {
  const result = await db.execute(
    `SELECT id, role, label, created_at, expires_at, revoked_at, uses_left, last_used_at
    FROM tokens ORDER BY created_at, id`,
  );
  return result.rows.map((row) => ({
    ...tokenRecord(row),
    revokedAt: row.revoked_at as number | null,
    lastUsedAt: row.last_used_at as number | null,
  }));
}

/** Revokes a token at once; false when there is no such token. */
export async function revokeToken(db: Client, id: string, now = Date.now()): Promise<boolean> {
  const result = await db.execute({
    sql: "UPDATE tokens SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?",
    args: [now, id],
  });
  return result.rowsAffected > 0;
}
