/**
 * 429 `site_busy`: a sync the site cannot take now, with a `Retry-After`
 * spread over 10 to 30 s so that a fleet refused together does not come
 * back together. Agents and child sites honour it and lose nothing: what
 * they did not send waits in their own documents.
 *
 * @module
 */
import { randomSeconds } from "../../lib/random_seconds.ts";
import { ApiError } from "./api_error.ts";

const BUSY_RETRY_SECONDS = [10, 30] as const;

/**
 * Behind with its `writes` (too many batches wait to be stored), or with its
 * `requests` (the thread that answers them runs late: `loop_lag.ts`).
 */
export function siteBusy(behindWith: "writes" | "requests"): ApiError {
  const seconds = randomSeconds(...BUSY_RETRY_SECONDS);
  return new ApiError(
    429,
    "site_busy",
    `the site is behind with its ${behindWith}; retry in ${seconds} s`,
    { "retry-after": String(seconds) },
  );
}
