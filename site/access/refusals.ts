/**
 * What becomes of a request refused for who sent it (401, 403): it goes to
 * the audit log, and if anyone could have sent it without a credential it
 * counts against its peer's address. Past `unauthenticatedRequestsPerMinute`
 * of those a minute (in bursts of as many), the address's next ones are
 * answered 429 with `Retry-After`, and audited as such, collapsed like any
 * repeated refusal (`audit_log.ts`).
 *
 * What counts: 401s (a missing, unknown, revoked or expired credential) and
 * forms from another origin (403 `cross_origin`, which the sign-in form
 * answers before any credential). Other 403s do not: they go to someone who
 * proved who they are, such as an agent whose batch the site refused, which
 * must not be slowed down for it. And only refusals count, not requests: a
 * good credential from the same address (an office behind one NAT) is
 * answered as usual while someone there keeps sending bad ones.
 *
 * @module
 */
import type { Context } from "hono";
import { ApiError } from "../http/api_error.ts";
import { auditEntry } from "../access/audit_log.ts";
import { peerAddress } from "../http/peer_address.ts";
import type { AuditLog } from "./audit_log.ts";
import type { RateLimits } from "../http/rate_limits.ts";
import type { SiteSettings } from "../site_settings.ts";

/** What a refusal touches: the audit log, and the limit of the peer's address. */
export interface RefusalServices {
  audit: AuditLog;
  limits: RateLimits;
  /** Read at each refusal: `PATCH /v1/settings` replaces them. */
  settings: SiteSettings;
}

/** The code of a form refused for coming from another origin. */
export const CROSS_ORIGIN = "cross_origin";

/** Whether an error is a refusal for who sent the request, which the audit log keeps. */
export function isRefusal(error: Error): error is ApiError {
  return error instanceof ApiError && (error.status === 401 || error.status === 403);
}

/**
 * Audits the refusal of `c` and counts it against its peer; returns the
 * error to answer with: `refusal` itself, or a 429 once the peer is past
 * its limit.
 */
export async function refuse(
  site: RefusalServices,
  c: Context,
  refusal: ApiError,
): Promise<ApiError> {
  const tooMany = anyoneCouldSend(refusal) ? overLimit(site, c) : undefined;
  const answer = tooMany ?? refusal;
  // The 429's message says when to retry, which changes; its audit reason does not.
  const reason = tooMany ? TOO_MANY : refusal.message;
  await site.audit.refused(auditEntry(c, { status: answer.status, code: answer.code, reason }));
  return answer;
}

const TOO_MANY = "too many requests refused for their credentials from this address";

function anyoneCouldSend(refusal: ApiError): boolean {
  return refusal.status === 401 || refusal.code === CROSS_ORIGIN;
}

function overLimit(site: RefusalServices, c: Context): ApiError | undefined {
  return site.limits.tryTake(
    `refused:${peerAddress(c.env)}`,
    site.settings.unauthenticatedRequestsPerMinute,
    "requests refused for their credentials from this address",
  );
}
