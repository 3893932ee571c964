/**
 * How a presented token that `checkToken` refused is answered, the same at
 * every door (the API's role check, enrolment, a child site's
 * registration), so the status always says what was wrong.
 *
 * @module
 */
import { ApiError } from "../http/api_error.ts";
import type { TokenCheck } from "../access/tokens.ts";

/**
 * The error for a refused token: 401 when it is unknown, revoked, expired or
 * used up, 403 when it is good but of the wrong role; the message starts
 * with `doing` when given ("cannot enrol: ...").
 */
export function tokenRefused(check: TokenCheck & { ok: false }, doing?: string): ApiError {
  const reason = doing ? `${doing}: ${check.reason}` : check.reason;
  return check.wrongRole
    ? new ApiError(403, "forbidden", reason)
    : new ApiError(401, "unauthenticated", reason);
}
