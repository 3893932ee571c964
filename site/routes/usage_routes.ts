/**
 * `GET /v1/usage`: usage sessions, filtered by rule, client, user and a time
 * range (sessions that overlap it), oldest first (or newest first with
 * `order=desc`), paginated with an opaque cursor, as JSON or CSV.
 *
 * @module
 */
import { Hono } from "hono";
import { z } from "zod";
import { badRequest } from "../http/api_error.ts";
import { requireRole, type SiteEnv } from "./auth.ts";
import { listResponse } from "../http/list_response.ts";
import { queryInput } from "../http/request_input.ts";
import type { SiteContext } from "../site_context.ts";
import { instantSchema, iso } from "../http/time_param.ts";
import { SESSION_COLUMNS, type SessionOutput } from "../../model/session_output.ts";
import { type ListedSession, listSessionRows } from "../usage/sessions_table.ts";

export const usageQuerySchema = z.object({
  rule: z.string().max(64).optional(),
  client: z.string().max(64).optional(),
  user: z.string().max(256).optional(),
  from: instantSchema.optional(),
  to: instantSchema.optional(),
  limit: z.coerce.number().int().min(1).max(100_000).default(1000),
  cursor: z.string().max(500).optional(),
  order: z.enum(["asc", "desc"]).default("asc"),
  format: z.enum(["json", "csv"]).optional(),
}).strict();

export type UsageQuery = z.infer<typeof usageQuerySchema>;

export function usageRoutes(site: SiteContext): Hono<SiteEnv> {
  const app = new Hono<SiteEnv>();
  app.get("/", requireRole(site.db, "viewer", "admin"), async (c) => {
    const query = queryInput(c, usageQuerySchema);
    const { sessions, nextCursor } = await listSessions(site, query);
    const headers: Record<string, string> = nextCursor ? { "x-next-cursor": nextCursor } : {};
    return listResponse(c, SESSION_COLUMNS, sessions, { sessions, nextCursor }, headers);
  });
  return app;
}

export async function listSessions(site: SiteContext, query: UsageQuery) {
  // One row more than the page shows: whether it exists says if there is a next page.
  const rows = await listSessionRows(site.db, {
    rule: query.rule,
    client: query.client,
    user: query.user,
    from: query.from,
    to: query.to,
    after: query.cursor ? decodeCursor(query.cursor) : undefined,
    order: query.order,
    limit: query.limit + 1,
  });
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  const nextCursor = rows.length > query.limit && last
    ? encodeCursor([last.startMs, last.clientId, last.sessionId])
    : null;
  return { sessions: page.map(toOutput), nextCursor };
}

function toOutput(row: ListedSession): SessionOutput {
  const start = row.startMs;
  const end = row.endMs;
  return {
    id: row.sessionId,
    clientId: row.clientId,
    hostName: row.hostName ?? "",
    ruleId: row.ruleId,
    ruleName: row.ruleName,
    user: row.user,
    exe: row.exe,
    argv0: row.argv0,
    version: row.version,
    pid: row.pid,
    start: iso(start)!,
    end: iso(end),
    durationSeconds: end === null ? null : (end - start) / 1000,
    stillRunning: end === null,
    startNotCaptured: row.startNotCaptured,
    endNotCaptured: row.endNotCaptured,
    remote: row.remote,
    clockCorrectionSeconds: row.clockOffsetMs / 1000,
    language: row.language,
  };
}

function encodeCursor(key: [number, string, string]): string {
  return btoa(JSON.stringify(key)).replace(/=+$/, "");
}

function decodeCursor(cursor: string): [number, string, string] {
  try {
    const key = JSON.parse(atob(cursor));
    const parsed = z.tuple([z.number(), z.string(), z.string()]).parse(key);
    return parsed;
  } catch {
    throw badRequest("cursor is not one this site gave out; start again without it");
  }
}
