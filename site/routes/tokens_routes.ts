/**
 * `/v1/tokens` (admin): the tokens of this site, listed without their
 * secrets or hashes, and revoked: a revoked token is refused from the next
 * request on.
 *
 * @module
 */
import { Hono } from "hono";
import { notFound } from "../api_error.ts";
import { requireRole, type SiteEnv } from "../auth.ts";
import { listResponse } from "../csv.ts";
import type { SiteContext } from "../site_context.ts";
import { listTokens, revokeToken } from "../tokens.ts";

export const TOKEN_COLUMNS = [
  "id",
  "role",
  "label",
  "createdAt",
  "expiresAt",
  "revokedAt",
  "usesLeft",
  "lastUsedAt",
] as const;

export function tokensRoutes(site: SiteContext): Hono<SiteEnv> {
  const app = new Hono<SiteEnv>();
  const admin = requireRole(site.db, "admin");
  app.get("/", admin, async (c) => {
    const tokens = (await listTokens(site.db)).map((token) => ({
      ...token,
      createdAt: iso(token.createdAt),
      expiresAt: iso(token.expiresAt),
      revokedAt: iso(token.revokedAt),
      lastUsedAt: iso(token.lastUsedAt),
    }));
    return listResponse(c, TOKEN_COLUMNS, tokens, { tokens });
  });
  app.delete("/:id", admin, async (c) => {
    const id = c.req.param("id");
    if (!await revokeToken(site.db, id)) throw notFound(`no token ${id}`);
    return c.body(null, 204);
  });
  return app;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
