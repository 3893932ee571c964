/**
 * Printing lists for people (an aligned table) or for tools (JSON, or CSV
 * with a header row), chosen with `--format`.
 *
 * @module
 */
import { toCsv } from "../site/csv.ts";
import { UsageError, type Values } from "./command.ts";

export type Format = "table" | "json" | "csv";

export function formatOption(values: Values): Format {
  const format = values.format ?? "table";
  if (format !== "table" && format !== "json" && format !== "csv") {
    throw new UsageError(`--format is table, json or csv, not ${format}`);
  }
  return format;
}

export function renderTable(
  columns: readonly string[],
  rows: readonly Record<string, unknown>[],
): string {
  const text = (value: unknown) =>
    value === null || value === undefined
      ? ""
      : typeof value === "object"
      ? JSON.stringify(value)
      : String(value);
  const cells = rows.map((row) => columns.map((c) => text(row[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i].length)));
  const line = (values: string[]) => values.map((v, i) => v.padEnd(widths[i])).join("  ").trimEnd();
  return [line([...columns]), ...cells.map(line)].join("\n");
}

/** Prints rows as the chosen format; JSON prints `json` as given. */
export function printList(
  format: Format,
  columns: readonly string[],
  rows: readonly Record<string, unknown>[],
  json: unknown,
): void {
  if (format === "json") console.log(JSON.stringify(json, null, 2));
  else if (format === "csv") Deno.stdout.writeSync(new TextEncoder().encode(toCsv(columns, rows)));
  else console.log(renderTable(columns, rows));
}
