/**
 * `GET /v1/audit` (admin): the refused requests, repeats counted on one row,
 * newest first (`audit_log.ts`), JSON or CSV; `limit` (default 1,000, at
 * most 100,000) and `since` (an ISO instant) narrow it.
 *
 * @module
 */
import { Hono } from "hono";
import { z } from "zod";
import { AUDIT_COLUMNS } from "../access/audit_log.ts";
import { requireRole, type SiteEnv } from "./auth.ts";
import { listResponse } from "../http/list_response.ts";
import { queryInput } from "../http/request_input.ts";
import type { SiteContext } from "../site_context.ts";

export const auditQuerySchema = z.object({
  limit: z.string().regex(/^\d{1,6}$/, "limit is a whole number").transform(Number)
    .refine((n) => n >= 1 && n <= 100_000, "limit is 1 to 100000").optional(),
  since: z.string().refine((v) => !Number.isNaN(Date.parse(v)), "since is an ISO date-time")
    .transform((v) => Date.parse(v)).optional(),
  format: z.enum(["json", "csv"]).optional(),
}).strict();

export function auditRoutes(site: SiteContext): Hono<SiteEnv> {
  const app = new Hono<SiteEnv>();
  app.get("/", requireRole(site.db, "admin"), async (c) => {
    const query = queryInput(c, auditQuerySchema);
    const entries = await site.audit.read(query.limit ?? 1_000, query.since ?? 0);
    return listResponse(c, AUDIT_COLUMNS, entries, { entries });
  });
  return app;
}
