/**
 * What a report is: a name, one line saying what it answers, the query
 * parameters it takes (a strict zod object that validates requests and
 * describes them in OpenAPI and `meter report --help`), the shape of one
 * row (its keys are the CSV columns, in order), and how it is computed.
 *
 * Every report answers the same envelope, `{report, parameters, dataAsOf,
 * rows}`: `dataAsOf` is when the summaries were last complete
 * (`summarizedUntil`), or now for reports that read live tables.
 *
 * @module
 */
import type { z } from "zod";
import type { ReportSources } from "./report_sources.ts";

export interface ReportResult<Row> {
  /** The parameters as understood: defaults filled in, ranges spelt out. */
  parameters: Record<string, unknown>;
  rows: Row[];
  /** Further JSON fields beside the rows (the time-of-day grid). */
  extra?: Record<string, unknown>;
}

export interface Report<
  Query extends z.ZodObject = z.ZodObject,
  Row extends z.ZodObject = z.ZodObject,
> {
  name: string;
  /** One line: what the report answers. */
  summary: string;
  query: Query;
  row: Row;
  /** The JSON fields beside the rows, if any (for the OpenAPI document). */
  extra?: z.ZodObject;
  /** `summaries`: data as of `summarizedUntil`; `live`: read as it is now. */
  freshness: "summaries" | "live";
  /** Computes the rows from what it reads (`ReportSources`), as of `now`. */
  run(
    sources: ReportSources,
    query: z.output<Query>,
    now: number,
  ): Promise<ReportResult<z.output<Row>>>;
}

/** The CSV columns of a report, in order. */
export function reportColumns(report: Report): string[] {
  return Object.keys(report.row.shape);
}

/** Whether a report needs the parameter (it has no default). */
export function isRequired(report: Report, name: string): boolean {
  return !(report.query.shape[name] as z.ZodType).safeParse(undefined).success;
}

/** The parameter names of a report, `format` aside. */
export function reportParameters(report: Report): string[] {
  return Object.keys(report.query.shape).filter((name) => name !== "format");
}
