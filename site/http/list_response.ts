/**
 * The choice between JSON and CSV, made the same way for every listing and
 * report: `?format=csv`, or `Accept: text/csv`.
 *
 * @module
 */
import type { Context } from "hono";
import { toCsv } from "../../lib/csv.ts";
import { badRequest } from "./api_error.ts";

/** Whether the client asked for CSV; 400 for a format that is neither. */
export function wantsCsv(c: Context): boolean {
  const format = c.req.query("format");
  if (format === undefined) return (c.req.header("accept") ?? "").includes("text/csv");
  if (format !== "json" && format !== "csv") {
    throw badRequest(`format is json or csv, not '${format}'`, "invalid_input");
  }
  return format === "csv";
}

/** Answers with CSV of `rows` or with the JSON `body`, as the client asked. */
export function listResponse(
  c: Context,
  columns: readonly string[],
  rows: readonly Record<string, unknown>[],
  body: unknown,
  headers: Record<string, string> = {},
): Response {
  if (!wantsCsv(c)) return c.json(body, 200, headers);
  return c.body(toCsv(columns, rows), 200, {
    ...headers,
    "content-type": "text/csv; charset=utf-8",
  });
}
