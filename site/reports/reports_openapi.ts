/**
 * The OpenAPI 3.1 path items of the reports, built from the same zod
 * schemas that validate their parameters and shape their rows, for the
 * site's `GET /openapi.json` to include.
 *
 * @module
 */
import { z } from "zod";
import { isRequired, type Report, reportColumns } from "./report.ts";
import { REPORTS } from "./report_registry.ts";
import {
  authErrors,
  bearerSecurity,
  errorReply,
  formatParameter,
  jsonSchema,
} from "../http/openapi_parts.ts";

const errors = {
  "400": errorReply("An invalid, unknown or out-of-retention parameter; the message names it"),
  ...authErrors,
};

const dataAsOfHeader = {
  "X-Data-As-Of": {
    description: "The time of the freshest data used (absent before the first summarisation)",
    schema: { type: "string", format: "date-time" },
  },
};

function parameters(report: Report) {
  return Object.entries(report.query.shape).map(([name, field]) => {
    const schema = field as z.ZodType;
    return {
      name,
      in: "query",
      required: isRequired(report, name),
      ...(schema.description ? { description: schema.description } : {}),
      schema: jsonSchema(schema),
    };
  });
}

function envelope(report: Report): z.ZodType {
  const base = z.object({
    report: z.literal(report.name),
    parameters: z.record(z.string(), z.unknown()),
    dataAsOf: z.string().nullable(),
    rows: z.array(report.row),
  });
  return report.extra ? base.extend(report.extra.shape) : base;
}

function pathItem(report: Report) {
  return {
    get: {
      summary: `Report ${report.name}: ${report.summary} (viewer or admin)`,
      description: `JSON, or CSV with the columns ${reportColumns(report).join(", ")} ` +
        "(?format=csv or Accept: text/csv).",
      tags: ["reports"],
      security: bearerSecurity,
      parameters: parameters(report),
      responses: {
        "200": {
          description: `The ${report.name} report`,
          headers: dataAsOfHeader,
          content: {
            "application/json": { schema: jsonSchema(envelope(report)) },
            "text/csv": { schema: { type: "string" } },
          },
        },
        ...errors,
      },
    },
  };
}

const listSchema = z.object({
  reports: z.array(z.object({
    name: z.string(),
    summary: z.string(),
    parameters: z.array(z.string()),
  })),
});

/** `/v1/reports` and `/v1/reports/<name>` for every report. */
export function reportsOpenApiPaths(): Record<string, unknown> {
  const paths: Record<string, unknown> = {
    "/v1/reports": {
      get: {
        summary: "The reports this site answers, with their parameters (viewer or admin)",
        tags: ["reports"],
        security: bearerSecurity,
        parameters: [formatParameter],
        responses: {
          "200": {
            description: "The reports",
            content: {
              "application/json": { schema: jsonSchema(listSchema) },
              "text/csv": { schema: { type: "string" } },
            },
          },
          ...errors,
        },
      },
    },
  };
  for (const report of REPORTS) paths[`/v1/reports/${report.name}`] = pathItem(report);
  return paths;
}
