/**
 * Printing lists for people (an aligned table) or for tools (JSON, or CSV
 * with a header row), chosen with `--format`; for tools also page by page, so
 * that a list of every session need not be held in memory.
 *
 * @module
 */
import { csvLine, toCsv } from "../lib/csv.ts";
import { UsageError, type Values } from "./command.ts";

export type Format = "table" | "json" | "csv";

/** The `--format` option of every command that prints a list. */
export const FORMAT_OPTION = { format: { type: "string" } } as const;

/**
 * The help's `Output:` section of a command that prints a list, its
 * descriptions starting at `column` to line up with the command's other
 * options.
 */
export function outputHelp(column: number, defaultNote = "default table"): string {
  const line = (option: string, text: string) => `  ${option.padEnd(column - 3)} ${text}\n`;
  return "Output:\n" + line("--format table|json|csv", `(${defaultNote})`) +
    line("-h, --help", "show this help");
}

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
  // A loop, not Math.max(...cells): spreading a long list into arguments
  // throws a RangeError past about 120,000 rows.
  const widths = columns.map((c) => c.length);
  for (const row of cells) {
    row.forEach((cell, i) => widths[i] = Math.max(widths[i], cell.length));
  }
  const line = (values: string[]) => values.map((v, i) => v.padEnd(widths[i])).join("  ").trimEnd();
  return [columns, ...cells].map((values) => line([...values])).join("\n");
}

/** Prints rows as the chosen format; JSON prints `json` as given. */
export function printList(
  format: Format,
  columns: readonly string[],
  rows: readonly Record<string, unknown>[],
  json: unknown,
): void {
  if (format === "json") console.log(JSON.stringify(json, null, 2));
  else if (format === "csv") writeOut(toCsv(columns, rows));
  else console.log(renderTable(columns, rows));
}

/** Writes all of `text` to stdout (one `writeSync` may write only part of it to a pipe). */
export function writeOut(text: string): void {
  const bytes = new TextEncoder().encode(text);
  for (let done = 0; done < bytes.length;) done += Deno.stdout.writeSync(bytes.subarray(done));
}

/**
 * Prints a list as it arrives, page by page: CSV with one header row, or a
 * JSON array laid out as `JSON.stringify(list, null, 2)` would lay it out.
 */
export class ListWriter {
  #started = false;

  constructor(readonly format: "json" | "csv", readonly columns: readonly string[]) {}

  write(rows: readonly Record<string, unknown>[]): void {
    let text = "";
    if (this.format === "csv") {
      if (!this.#started) text += csvLine(this.columns);
      for (const row of rows) text += csvLine(this.columns.map((c) => row[c]));
    } else {
      for (const row of rows) {
        text += this.#started || text ? ",\n  " : "[\n  ";
        text += JSON.stringify(row, null, 2).replaceAll("\n", "\n  ");
      }
    }
    this.#started ||= text !== "";
    writeOut(text);
  }

  end(): void {
    if (this.format === "csv") this.write([]);
    else writeOut(this.#started ? "\n]\n" : "[]\n");
  }
}
