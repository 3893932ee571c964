/**
 * `POST /v1/query` (viewer or admin): one read-only SQL query over the query
 * views (`query/query_views.ts`), with a row limit and a time limit, run in a
 * query process (`query/query_runner.ts`) so a slow or greedy query never
 * holds up the site. The answer is `{columns, rows, truncated}`, or CSV with
 * a header row (`?format=csv` or `Accept: text/csv`; `X-Truncated` says
 * whether rows were left out), encoded by the query process: this route only
 * passes its bytes on.
 *
 * @module
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { z } from "zod";
import { ApiError } from "../http/api_error.ts";
import { requireRole, type SiteEnv } from "./auth.ts";
import { wantsCsv } from "../http/list_response.ts";
import {
  authErrors,
  bearerSecurity,
  bodyErrors,
  errorReply,
  formatParameter,
  jsonBodyOf,
  reply,
} from "../http/openapi_parts.ts";
import { MAX_RESULT_BYTES, QUERY_MEMORY_BYTES } from "../query/query_protocol.ts";
import { QueryRunner, type QueryRunnerOptions } from "../query/query_runner.ts";
import { QUERY_VIEWS } from "../query/query_views.ts";
import { sqlFunctionsMarkdown } from "../query/sql_functions.ts";
import { jsonBody } from "../http/request_input.ts";
import type { SiteContext } from "../site_context.ts";
import { tooLarge } from "./too_large.ts";

const BODY_LIMIT = 128 * 1024;

export const queryRequestSchema = z.object({
  sql: z.string().min(1).max(100_000)
    .describe("one SELECT (or WITH ... SELECT, or VALUES) over the query views"),
  limit: z.number().int().min(1).max(100_000).default(1000).describe("rows returned at most"),
  timeoutMs: z.number().int().min(100).max(30_000).default(5000)
    .describe("the query is stopped after this many milliseconds"),
}).strict();

export const queryResultSchema = z.object({
  columns: z.array(z.string()),
  rows: z.array(z.array(z.unknown())).describe(
    "one array per row, in column order; integers beyond 2^53 as text, blobs as hex",
  ),
  truncated: z.boolean().describe("true when the query had more rows than limit"),
});

export interface QueryRouteOptions extends QueryRunnerOptions {
  /** The runner to use; by default the route makes its own. */
  runner?: QueryRunner;
}

export function queryRoute(site: SiteContext, options: QueryRouteOptions = {}): Hono<SiteEnv> {
  const app = new Hono<SiteEnv>();
  const runner = options.runner ?? new QueryRunner(site.db, options);
  const limit = bodyLimit({ maxSize: BODY_LIMIT, onError: tooLarge(BODY_LIMIT) });
  app.post("/", requireRole(site.db, "viewer", "admin"), limit, async (c) => {
    const format = wantsCsv(c) ? "csv" : "json"; // a bad ?format is a 400 before the query runs
    const request = await jsonBody(c, queryRequestSchema);
    const reply = await runner.run({ ...request, format });
    if (!reply.ok) throw new ApiError(reply.status, reply.code, reply.message);
    return c.body(reply.body, 200, {
      "content-type": format === "csv" ? "text/csv; charset=utf-8" : "application/json",
      "x-truncated": String(reply.truncated),
    });
  });
  return app;
}

/** The views and their columns, as Markdown for the API description. */
export function queryViewsMarkdown(): string {
  return QUERY_VIEWS.map((view) =>
    `- \`${view.name}\`: ${view.description}. Columns: ` +
    view.columns.map(([name, doc]) => `\`${name}\` — ${doc}`).join("; ") + "."
  ).join("\n");
}

export function queryOpenApiPaths(): Record<string, unknown> {
  return {
    "/v1/query": {
      post: {
        summary: "Run one read-only SQL query over the query views (viewer or admin)",
        description: "One SELECT (or WITH ... SELECT, or VALUES) statement; anything else, " +
          "a statement that opens any table but those behind these views, reads a column " +
          "they do not list, or calls a function not listed below is refused with 400 " +
          "naming it. Times are ms since 1970 (UTC), flags 0 or 1.\n\n" + queryViewsMarkdown() +
          "\n\nFunctions a query may call:\n\n" + sqlFunctionsMarkdown() +
          `\n\nA query runs in a process of its own with at most ${QUERY_MEMORY_BYTES / 2 ** 20} ` +
          "MiB of SQLite memory (values, sorting, grouping, its rows); one that needs more is " +
          `stopped with 400. Results are capped at ${MAX_RESULT_BYTES / 2 ** 20} MiB.`,
        security: bearerSecurity,
        parameters: [formatParameter],
        requestBody: jsonBodyOf(queryRequestSchema),
        responses: {
          "200": reply(
            "The rows; X-Truncated says whether more were left out",
            queryResultSchema,
            true,
          ),
          "400": errorReply(
            "Not a single read-only query, a table, column or function outside what is " +
              "listed, invalid SQL, a query needing more memory than allowed, or a result " +
              "over the cap; the message says which",
          ),
          ...authErrors,
          "408": errorReply("The query ran past its time limit and was stopped"),
          ...bodyErrors,
          "501": errorReply("The site's database is not a local file"),
          "503": errorReply("Too many queries at once; try again shortly"),
        },
      },
    },
  };
}
