/**
 * CSV encoding for every listing and report: RFC 4180 quoting and a header
 * row.
 *
 * Text that agents report (program paths, argv[0], user and host names) is
 * not trusted: a text cell starting with `=`, `+`, `-`, `@`, a tab or a
 * carriage return gets a leading `'`, so a spreadsheet shows it instead of
 * running it as a formula (OWASP's advice on CSV injection).
 *
 * @module
 */

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

/** `columns` as a header row, then one line per row. */
export function toCsv(
  columns: readonly string[],
  rows: readonly Record<string, unknown>[],
): string {
  const lines = [csvLine(columns)];
  for (const row of rows) lines.push(csvLine(columns.map((c) => row[c])));
  return lines.join("");
}
