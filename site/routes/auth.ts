/**
 * Authentication of HTTP requests: people and enrolment by bearer token
 * (role-checked), agents by the client id and secret they got at enrolment,
 * presented as `Bearer <clientId>.<secret>`.
 *
 * Missing or bad credentials answer 401, a good token of the wrong role 403.
 *
 * @module
 */
import type { Context, MiddlewareHandler } from "hono";
import type { Client } from "../../store/db.ts";
import { hashSecret, sameHash } from "../../lib/secret.ts";
import { ApiError } from "../http/api_error.ts";
import { descendantCredential } from "../hierarchy/client_credentials.ts";
import { tokenRefused } from "../access/token_refusal.ts";
import type { CredentialCache } from "../clients/credential_cache.ts";
import { checkToken, type TokenRecord, type TokenRole } from "../access/tokens.ts";

export type SiteEnv = { Variables: { token: TokenRecord } };

/** The bearer credential of a request, or a 401. */
export function bearer(c: Context): string {
  const header = c.req.header("authorization") ?? "";
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match) {
    throw new ApiError(401, "unauthenticated", "send the header 'Authorization: Bearer <token>'", {
      "www-authenticate": "Bearer",
    });
  }
  return match[1];
}

/** Middleware: the request must carry a token of one of the roles. */
export function requireRole(db: Client, ...roles: TokenRole[]): MiddlewareHandler<SiteEnv> {
  return async (c, next) => {
    const check = await checkToken(db, bearer(c), roles);
    if (!check.ok) throw tokenRefused(check);
    c.set("token", check.token);
    await next();
  };
}

export interface AuthenticatedClient {
  clientId: string;
  actors: ReadonlySet<string>;
  /** Set for an agent of a site below, falling back here while its own site is away. */
  homeSite?: string;
}

/**
 * Checks an agent's `<clientId>.<secret>` credential against the site's own
 * clients (`credentials`), then those of the sites below (`db`); throws 401.
 */
export async function authenticateClient(
  credentials: CredentialCache,
  db: Client,
  credential: string,
): Promise<AuthenticatedClient> {
  const dot = credential.indexOf(".");
  const clientId = credential.slice(0, dot);
  const refused = () =>
    new ApiError(401, "unauthenticated", "unknown client credential; enrol again");
  if (dot < 1) throw refused();
  const stored = await credentials.get(clientId);
  if (!stored) return await descendantClient(db, clientId, credential.slice(dot + 1), refused);
  if (!sameHash(stored.secretHash, hashSecret(credential.slice(dot + 1)))) throw refused();
  return { clientId, actors: stored.actors };
}

/** An agent of a site below, known from its site's credentials documents; throws 401. */
async function descendantClient(
  db: Client,
  clientId: string,
  secret: string,
  refused: () => ApiError,
): Promise<AuthenticatedClient> {
  const known = await descendantCredential(db, clientId);
  if (!known || !sameHash(known.secretHash, hashSecret(secret))) throw refused();
  return { clientId, actors: known.actors, homeSite: known.siteCode };
}
