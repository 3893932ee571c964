/**
 * A small client for the site's HTTP API, used by the `meter` commands that
 * talk to a running site. Errors carry the site's own message.
 *
 * A command must not hang on a site that accepted the connection and never
 * answers, so every request has a time limit (headers and body). A site that
 * is busy says so with 429 or 503 and `Retry-After`: the client waits that
 * long, if it is short, and tries again a few times, saying so on stderr.
 *
 * @module
 */

import { errorMessageOf } from "../model/error_body.ts";
import { notice } from "./command.ts";

export class ApiClientError extends Error {}

export interface ApiTarget {
  /** The site's base URL, e.g. `http://127.0.0.1:8080`. */
  site: string;
  token: string;
  /** Give up on a request that has not been answered in this long (default 30 s). */
  timeoutMs?: number;
}

export const DEFAULT_TIMEOUT_MS = 30_000;
/** The longest `Retry-After` waited for; a site asking for more is busy for a while. */
const MAX_RETRY_AFTER_S = 60;
const MAX_RETRIES = 3;

export async function apiRequest<T>(
  target: ApiTarget,
  method: string,
  path: string,
  body?: unknown,
  accept = "application/json",
): Promise<{ data: T; headers: Headers }> {
  const url = new URL(path, target.site.endsWith("/") ? target.site : target.site + "/");
  for (let retries = 0;; retries++) {
    const { response, text } = await send(target, url, method, body, accept);
    const wait = retryAfterSeconds(response);
    if (!response.ok && wait !== undefined && wait <= MAX_RETRY_AFTER_S && retries < MAX_RETRIES) {
      notice(
        `the site answered ${response.status} to ${method} ${url.pathname}; ` +
          `trying again in ${wait} s, as its Retry-After asks`,
      );
      await new Promise((resolve) => setTimeout(resolve, wait * 1000));
      continue;
    }
    if (!response.ok) {
      const message = errorMessageOf(text) ?? text;
      const later = wait === undefined ? "" : ` (the site asks to try again in ${wait} s)`;
      throw new ApiClientError(
        `${method} ${url.pathname}: HTTP ${response.status}: ${message}${later}`,
      );
    }
    const data = (accept === "application/json" && text ? JSON.parse(text) : text) as T;
    return { data, headers: response.headers };
  }
}

/** One request and its whole body, within the target's time limit. */
async function send(
  target: ApiTarget,
  url: URL,
  method: string,
  body: unknown,
  accept: string,
): Promise<{ response: Response; text: string }> {
  const timeoutMs = target.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  try {
    const response = await fetch(url, {
      method,
      headers: {
        authorization: `Bearer ${target.token}`,
        accept,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    return { response, text: await response.text() };
  } catch (error) {
    if (error instanceof DOMException && error.name === "TimeoutError") {
      throw new ApiClientError(
        `the site at ${target.site} did not answer within ${timeoutMs / 1000} s ` +
          `(--timeout SECONDS or METER_TIMEOUT gives it longer)`,
      );
    }
    throw new ApiClientError(
      `cannot reach the site at ${target.site}: ${(error as Error).message}`,
    );
  }
}

/** `Retry-After` in whole seconds (it is seconds or an HTTP date), on 429 and 503 only. */
function retryAfterSeconds(response: Response): number | undefined {
  if (response.status !== 429 && response.status !== 503) return undefined;
  const value = response.headers.get("retry-after");
  if (value === null) return undefined;
  const seconds = /^\d+$/.test(value.trim())
    ? Number(value)
    : (Date.parse(value) - Date.now()) / 1000;
  return Number.isNaN(seconds) ? undefined : Math.max(0, Math.ceil(seconds));
}
