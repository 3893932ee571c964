/**
 * The console reads the same reports as `GET /v1/reports/<name>`, through
 * the same code, and its CSV downloads are byte for byte the API's CSV.
 *
 * @module
 */
import type { Context } from "hono";
import { parseOr400 } from "../http/api_error.ts";
import { toCsv } from "../../lib/csv.ts";
import { reportColumns, type ReportResult } from "../reports/report.ts";
import { findReport } from "../reports/report_registry.ts";
import { reportSources } from "../reports/report_sources.ts";
import type { SiteContext } from "../site_context.ts";

// deno-lint-ignore no-explicit-any
export type Row = Record<string, any>;

/** Runs a report with its parameters validated as the API validates them (400 naming one). */
export async function runReport(
  site: SiteContext,
  name: string,
  params: Record<string, string>,
  now = Date.now(),
): Promise<ReportResult<Row>> {
  const report = findReport(name)!;
  const query = parseOr400(report.query, params, "query");
  return await report.run(reportSources(site), query, now) as ReportResult<Row>;
}

/** A report's rows as the API's CSV, downloaded as `<name>.csv`. */
export async function reportCsv(
  c: Context,
  site: SiteContext,
  name: string,
  params: Record<string, string>,
): Promise<Response> {
  const { rows } = await runReport(site, name, params);
  return csvDownload(c, name, toCsv(reportColumns(findReport(name)!), rows));
}

export function csvDownload(c: Context, name: string, csv: string): Response {
  return c.body(csv, 200, {
    "content-type": "text/csv; charset=utf-8",
    "content-disposition": `attachment; filename="${name}.csv"`,
  });
}
