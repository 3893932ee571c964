/**
 * Reading request input: a JSON body or the query string, validated with
 * zod, with a 400 that names what was wrong. Body sizes are limited earlier,
 * by the `bodyLimit` middleware on each route.
 *
 * @module
 */
import type { Context } from "hono";
import type { z } from "zod";
import { ApiError, badRequest, parseOr400 } from "./api_error.ts";

export async function jsonBody<T>(c: Context, schema: z.ZodType<T>): Promise<T> {
  if (!/^application\/([\w.-]+\+)?json\s*(;|$)/i.test(c.req.header("content-type") ?? "")) {
    throw new ApiError(415, "unsupported_media_type", "send the body as application/json");
  }
  let value: unknown;
  try {
    value = JSON.parse(await c.req.text());
  } catch {
    throw badRequest("the body is not valid JSON", "invalid_json");
  }
  return parseOr400(schema, value, "body");
}

export function queryInput<T>(c: Context, schema: z.ZodType<T>): T {
  return parseOr400(schema, c.req.query(), "query");
}
