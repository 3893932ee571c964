/**
 * Who is signed in to the console: the viewer or admin token a person typed
 * at `/sign-in`, kept in an HTTP-only, same-site-strict cookie (never in a
 * URL, never readable by a script) and checked on every request exactly as
 * a bearer token is, so a revoked or expired token signs the person out.
 *
 * Forms change things only by POST, and a POST whose `Origin` is another
 * site's is refused: with the same-site cookie, that keeps other pages from
 * acting for a signed-in person.
 *
 * @module
 */
import type { Context, MiddlewareHandler } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { SiteEnv } from "../routes/auth.ts";
import { checkToken, type TokenRecord } from "../access/tokens.ts";
import { ApiError } from "../http/api_error.ts";
import { CROSS_ORIGIN, refuse } from "../access/refusals.ts";
import type { SiteContext } from "../site_context.ts";

export const SESSION_COOKIE = "meter_console";
/** A signed-in browser forgets the token after this long. */
const SESSION_SECONDS = 12 * 3600;

export function startSession(c: Context, token: string): void {
  setCookie(c, SESSION_COOKIE, token, {
    httpOnly: true,
    sameSite: "Strict",
    secure: new URL(c.req.url).protocol === "https:",
    path: "/",
    maxAge: SESSION_SECONDS,
  });
}

export function endSession(c: Context): void {
  deleteCookie(c, SESSION_COOKIE, { path: "/" });
}

/**
 * A path on this site to return to after signing in; anything else goes to
 * the overview. Browsers take `//host`, `/\host` and `/<tab>/host` for
 * another host (they read `\` as `/` and drop tabs and newlines), so the
 * path must be `/` then a character that starts a path segment, a query or
 * a fragment, with no control character, both as given and percent-decoded.
 */
export function safeNext(next: string | undefined): string {
  if (!next || !isLocalPath(next)) return "/";
  try {
    return isLocalPath(decodeURIComponent(next)) ? next : "/";
  } catch {
    return "/"; // malformed percent-encoding
  }
}

const isLocalPath = (path: string) =>
  /^\/([\w\-.~!$&'()*+,;=:@%?#]|$)/.test(path) && !/\p{Cc}/u.test(path);

/**
 * Middleware: the person must be signed in with a viewer or admin token;
 * otherwise they are sent to `/sign-in`, which says why and brings them back.
 * A cookie with a token that is refused is a refused credential like any
 * other: audited, and counted against its address (`refusals.ts`).
 */
export function signedIn(site: SiteContext): MiddlewareHandler<SiteEnv> {
  return async (c, next) => {
    const presented = getCookie(c, SESSION_COOKIE);
    const back = encodeURIComponent(new URL(c.req.url).pathname + new URL(c.req.url).search);
    if (!presented) return c.redirect(`/sign-in?next=${back}`, 303);
    const check = await checkToken(site.db, presented, ["viewer", "admin"]);
    if (!check.ok) {
      endSession(c);
      const answer = await refuse(site, c, new ApiError(401, "unauthenticated", check.reason));
      if (answer.status === 429) throw answer;
      return c.redirect(`/sign-in?next=${back}&why=${encodeURIComponent(check.reason)}`, 303);
    }
    c.set("token", check.token);
    await next();
  };
}

/** Refuses a change unless the person signed in with an admin token (403). */
export function requireAdmin(token: TokenRecord): void {
  if (token.role !== "admin") {
    throw new ApiError(403, "forbidden", "changing rules needs an admin token; sign in with one");
  }
}

/** Middleware: a POST from a page of another origin is refused (403). */
export const sameOrigin: MiddlewareHandler<SiteEnv> = async (c, next) => {
  const origin = c.req.header("origin");
  if (c.req.method === "POST" && origin && origin !== new URL(c.req.url).origin) {
    throw new ApiError(403, CROSS_ORIGIN, `a form from ${origin} may not change this site`);
  }
  await next();
};
