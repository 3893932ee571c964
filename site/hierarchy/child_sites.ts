/**
 * The child sites registered with this one: each presented a `site` token
 * once, chose a code no other site of the hierarchy holds, and bound the
 * Automerge actor of its documents; it then syncs with `Bearer
 * <CODE>.<secret>`. Only the secret's hash is kept. A code is taken once: a
 * second registration of it is refused (409), so one site cannot speak for
 * another.
 *
 * @module
 */
import type { Client } from "../../store/db.ts";
import { log } from "../../lib/log.ts";
import { hashSecret, newSecret, sameHash } from "../../lib/secret.ts";
import { ApiError } from "../http/api_error.ts";
import type { Store } from "../../store/store.ts";
import type { Lineage } from "./lineage.ts";
import { tokenRefused } from "../access/token_refusal.ts";
import { checkToken } from "../access/tokens.ts";
import type { RegisterReply, RegisterRequest } from "./registration_body.ts";

export const childSitesSchema = [
  `CREATE TABLE IF NOT EXISTS child_sites (
    code TEXT PRIMARY KEY,
    actor TEXT NOT NULL UNIQUE,
    secret_hash TEXT NOT NULL,
    registered_at INTEGER NOT NULL,
    registered_with TEXT NOT NULL,
    last_sync_at INTEGER
  )`,
] as const;

export interface ChildSite {
  code: string;
  actor: string;
}

/** Registers a child; under the write lock, so a token's last use is taken once. */
export function registerChild(
  site: Store & Lineage,
  presented: string,
  body: RegisterRequest,
): Promise<RegisterReply> {
  return site.lock.run(async () => {
    const check = await checkToken(site.db, presented, ["site"]);
    if (!check.ok) throw tokenRefused(check, "cannot register");
    if (body.code === site.code || site.ancestors.includes(body.code)) {
      throw codeTaken(body.code, "it is this site's or an ancestor's");
    }
    const taken = await site.db.execute({
      sql: "SELECT code FROM child_sites WHERE code = ? OR actor = ?",
      args: [body.code, body.actor],
    });
    if (taken.rows.length > 0) {
      throw codeTaken(body.code, "a site of that code or actor is registered");
    }
    const secret = newSecret();
    const now = Date.now();
    await site.db.batch([{
      sql: `INSERT INTO child_sites (code, actor, secret_hash, registered_at, registered_with)
        VALUES (?, ?, ?, ?, ?)`,
      args: [body.code, body.actor, hashSecret(secret), now, check.token.id],
    }, {
      sql: `INSERT INTO known_sites (code, parent_code, actor, via_child) VALUES (?, ?, ?, ?)`,
      args: [body.code, site.code, body.actor, body.code],
    }, {
      sql: "UPDATE tokens SET last_used_at = ?, uses_left = uses_left - 1 WHERE id = ?",
      args: [now, check.token.id],
    }], "write");
    log.info("child site registered", { code: body.code, token: check.token.id });
    return { secret, ancestors: [site.code, ...site.ancestors] };
  });
}

function codeTaken(code: string, why: string): ApiError {
  return new ApiError(409, "site_code_taken", `site code ${code} cannot register here: ${why}`);
}

/** Checks a child site's `<CODE>.<secret>` credential; throws 401. */
export async function authenticateChildSite(db: Client, credential: string): Promise<ChildSite> {
  const dot = credential.indexOf(".");
  const code = credential.slice(0, Math.max(0, dot));
  const secret = credential.slice(dot + 1);
  const refused = () =>
    new ApiError(401, "unauthenticated", "unknown site credential; register again");
  if (dot < 1 || !secret) throw refused();
  const result = await db.execute({
    sql: "SELECT actor, secret_hash FROM child_sites WHERE code = ?",
    args: [code],
  });
  const row = result.rows[0];
  if (!row || !sameHash(row.secret_hash as string, hashSecret(secret))) throw refused();
  return { code, actor: row.actor as string };
}

/**
 * Removes a child and what came with it: its registration (its credential
 * stops working at once), the sites it listed below it, and the agents'
 * credentials of its subtree; the summaries already received stay, as
 * history. The code is free again, e.g. for a site rebuilt from scratch.
 */
export function removeChild(site: Store & Lineage, code: string): Promise<boolean> {
  return site.lock.run(async () => {
    const found = await site.db.execute({
      sql: "SELECT code FROM child_sites WHERE code = ?",
      args: [code],
    });
    if (found.rows.length === 0) return false;
    await site.db.batch([
      {
        sql: `DELETE FROM descendant_credentials WHERE site_code IN
          (SELECT code FROM known_sites WHERE via_child = ?)`,
        args: [code],
      },
      { sql: "DELETE FROM known_sites WHERE via_child = ?", args: [code] },
      { sql: "DELETE FROM child_sites WHERE code = ?", args: [code] },
    ], "write");
    log.info("child site removed", { code });
    return true;
  });
}
