/**
 * `GET /v1/reports` (the list) and `GET /v1/reports/<name>` (one report),
 * for viewer and admin tokens. Parameters are validated with the report's
 * zod schema (a 400 names what is wrong; unknown parameters are refused);
 * the answer is JSON `{report, parameters, dataAsOf, rows}` or, with
 * `?format=csv` or `Accept: text/csv`, the rows as CSV. Both carry the time
 * of the freshest data used in the `X-Data-As-Of` header.
 *
 * @module
 */
import { Hono } from "hono";
import { requireRole, type SiteEnv } from "./auth.ts";
import { listResponse } from "../http/list_response.ts";
import { queryInput } from "../http/request_input.ts";
import type { SiteContext } from "../site_context.ts";
import { loadSummaryState } from "../summaries/summary_state.ts";
import { iso } from "../http/time_param.ts";
import { type Report, reportColumns, reportParameters } from "../reports/report.ts";
import { REPORTS } from "../reports/report_registry.ts";
import { reportSources } from "../reports/report_sources.ts";

const LIST_COLUMNS = ["name", "summary", "parameters"];

export function reportsRoute(site: SiteContext): Hono<SiteEnv> {
  const app = new Hono<SiteEnv>();
  const read = requireRole(site.db, "viewer", "admin");
  app.get("/", read, (c) => {
    const reports = REPORTS.map((report) => ({
      name: report.name,
      summary: report.summary,
      parameters: reportParameters(report),
    }));
    return listResponse(c, LIST_COLUMNS, reports, { reports });
  });
  for (const report of REPORTS) {
    app.get(`/${report.name}`, read, (c) => answer(c, site, report));
  }
  return app;
}

async function answer(c: Parameters<typeof listResponse>[0], site: SiteContext, report: Report) {
  const query = queryInput(c, report.query);
  const now = Date.now();
  // Read before the report, so the figures are at least as fresh as stated.
  const dataAsOf = report.freshness === "live"
    ? now
    : (await loadSummaryState(site.db)).summarizedUntil || null;
  const result = await report.run(reportSources(site), query, now);
  const headers: Record<string, string> = dataAsOf === null
    ? {}
    : { "x-data-as-of": iso(dataAsOf)! };
  const body = {
    report: report.name,
    parameters: result.parameters,
    dataAsOf: iso(dataAsOf),
    rows: result.rows,
    ...result.extra,
  };
  return listResponse(c, reportColumns(report), result.rows, body, headers);
}
