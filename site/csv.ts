/**
 * CSV output for every listing and report: RFC 4180 quoting, a header row,
 * and the choice between JSON and CSV made the same way everywhere
 * (`?format=csv`, or `Accept: text/csv`).
 *
 * Text that agents report (program paths, argv[0], user and host names) is
 * not trusted: a text cell starting with `=`, `+`, `-`, `@`, a tab or a
 * carriage return gets a leading `'`, so a spreadsheet shows it instead of
 * running it as a formula (OWASP's advice on CSV injection).
 *
 * @module
 */
import type { Context } from "hono";
import { badRequest } from "./api_error.ts";

function cell(value: unknown): string {
  if (value === null || value === undefined) return "";
  const text = typeof value === "string"
    ? (/^[=+\-@\t\r]/.test(value) ? `'${value}` : value)
    : typeof value === "object"
    ? JSON.stringify(value)
    : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One CSV line of `values`, with its CRLF. */
export function csvLine(values: readonly unknown[]): string {
  return values.map(cell).join(",") + "\r\n";
}

export function toCsv(
  columns: readonly string[],
  rows: readonly Record<string, unknown>[],
): string {
  const lines = [csvLine(columns)];
  for (const row of rows) lines.push(csvLine(columns.map((c) => row[c])));
  return lines.join("");
}

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
