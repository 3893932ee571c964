/**
 * The one error type of the HTTP API, in the spirit of Hono's
 * `HTTPException`: thrown anywhere, answered by {@linkcode errorResponse} as
 * `{error: {code, message}}` with its status, where the message says what was
 * wrong and what to do.
 *
 * @module
 */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { z } from "zod";
import { log } from "../../lib/log.ts";

export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export const badRequest = (message: string, code = "bad_request") =>
  new ApiError(400, code, message);
export const notFound = (message: string) => new ApiError(404, "not_found", message);
export const forbidden = (message: string, code = "forbidden") => new ApiError(403, code, message);

/** Parses `value` with zod or throws a 400 naming the invalid fields. */
export function parseOr400<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw badRequest(`invalid ${what}: ${z.prettifyError(parsed.error)}`, "invalid_input");
}

/** Hono `onError` handler: API errors as JSON, anything else as a logged 500. */
export function errorResponse(error: Error, c: Context): Response {
  if (error instanceof ApiError) {
    return c.json(
      { error: { code: error.code, message: error.message } },
      error.status,
      error.headers,
    );
  }
  log.error("request failed", { method: c.req.method, path: c.req.path, error });
  return c.json(
    { error: { code: "internal", message: "the site failed to handle this request; see its log" } },
    500,
  );
}
