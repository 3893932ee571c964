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
import type { Client } from "../../store/db.ts";
import { log } from "../../lib/log.ts";
import { hashSecret, newId, newSecret } from "../../lib/secret.ts";
import { iso } from "../http/time_param.ts";

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

const DAY_MS = 86_400_000;

export interface TokenOptions {
  label?: string;
  /** When it stops working, ms since 1970 ... */
  expiresAt?: number;
  /** ... or after how many days from now. */
  expiresInDays?: number;
  /** How many enrolments or registrations it may make. */
  uses?: number;
}

export async function createToken(
  db: Client,
  role: TokenRole,
  options: TokenOptions = {},
): Promise<NewToken> {
  const token = PREFIX + newSecret();
  const createdAt = Date.now();
  const record: TokenRecord = {
    id: newId(8),
    role,
    label: options.label ?? "",
    createdAt,
    expiresAt: options.expiresAt ??
      (options.expiresInDays ? createdAt + options.expiresInDays * DAY_MS : null),
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

/**
 * Checks a presented token against the roles allowed; a good one is noted
 * as used (`last_used_at`), whatever its role.
 */
export async function checkToken(
  db: Client,
  presented: string,
  roles: readonly TokenRole[],
  now = Date.now(),
): Promise<TokenCheck> {
  const result = await db.execute({
    sql: `SELECT id, role, label, created_at, expires_at, revoked_at, uses_left, last_used_at
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
    const needed = roles.map(withArticle).join(" or ");
    return {
      ok: false,
      reason: `${withArticle(token.role)} token may not do this (it needs ${needed} token)`,
      wrongRole: true,
    };
  }
  await noteUse(db, token.id, row.last_used_at as number | null, now);
  return { ok: true, token };
}

/** "an admin", "an enroll", "a site", "a viewer". */
const withArticle = (role: TokenRole) => `${/^[aeiou]/.test(role) ? "an" : "a"} ${role}`;

/**
 * `last_used_at` is kept to the minute: writing it on every request would
 * turn each read of the API or the console into a write.
 */
const LAST_USED_PRECISION_MS = 60_000;

/** Notes that a token was used; a failure to note it does not refuse the request. */
async function noteUse(db: Client, id: string, lastUsedAt: number | null, now: number) {
  if (lastUsedAt !== null && now - lastUsedAt < LAST_USED_PRECISION_MS) return;
  try {
    await db.execute({ sql: "UPDATE tokens SET last_used_at = ? WHERE id = ?", args: [now, id] });
  } catch (error) {
    log.warn("could not note a token's use", { id, error });
  }
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

/** A listed token with its times as ISO text, as the API and the CLI show it. */
export function listedToken(token: TokenListing) {
  return {
    ...token,
    createdAt: iso(token.createdAt),
    expiresAt: iso(token.expiresAt),
    revokedAt: iso(token.revokedAt),
    lastUsedAt: iso(token.lastUsedAt),
  };
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
