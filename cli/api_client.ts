/**
 * A small client for the site's HTTP API, used by the `meter` commands that
 * talk to a running site. Errors carry the site's own message.
 *
 * @module
 */

import { errorMessageOf } from "../sync/error_body.ts";

export class ApiClientError extends Error {}

export interface ApiTarget {
  /** The site's base URL, e.g. `http://127.0.0.1:8080`. */
  site: string;
  token: string;
}

export async function apiRequest<T>(
  target: ApiTarget,
  method: string,
  path: string,
  body?: unknown,
  accept = "application/json",
): Promise<{ data: T; headers: Headers }> {
  const url = new URL(path, target.site.endsWith("/") ? target.site : target.site + "/");
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers: {
        authorization: `Bearer ${target.token}`,
        accept,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    throw new ApiClientError(
      `cannot reach the site at ${target.site}: ${(error as Error).message}`,
    );
  }
  const text = await response.text();
  if (!response.ok) {
    const message = errorMessageOf(text) ?? text;
    throw new ApiClientError(`${method} ${url.pathname}: HTTP ${response.status}: ${message}`);
  }
  const data = (accept === "application/json" && text ? JSON.parse(text) : text) as T;
  return { data, headers: response.headers };
}
