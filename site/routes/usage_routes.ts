/**
 * `GET /v1/usage`: usage sessions, filtered by rule, client, user and a time
 * range (sessions that overlap it), oldest first (or newest first with
 * `order=desc`), paginated with an opaque cursor, as JSON or CSV.
 *
 * @module
 */
import { Hono } from "hono";
import { z } from "zod";
import type { InValue } from "@libsql/client";
import { badRequest } from "../http/api_error.ts";
import { requireRole, type SiteEnv } from "./auth.ts";
import { listResponse } from "../http/list_response.ts";
import { queryInput } from "../http/request_input.ts";
import type { SiteContext } from "../site_context.ts";
import { instantSchema, iso } from "../http/time_param.ts";
import { SESSION_COLUMNS, type SessionOutput } from "../../model/session_output.ts";

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
  const where: string[] = [];
  const args: InValue[] = [];
  const add = (sql: string, ...values: InValue[]) => {
    where.push(sql);
    args.push(...values);
  };
  if (query.rule) add("u.rule_id = ?", query.rule);
  if (query.client) add("u.client_id = ?", query.client);
  if (query.user) add("u.user_name = ?", query.user);
  if (query.to !== undefined) add("u.start_ms < ?", query.to);
  if (query.from !== undefined) add("(u.end_ms IS NULL OR u.end_ms >= ?)", query.from);
  if (query.cursor) {
    const [start, client, session] = decodeCursor(query.cursor);
    const after = query.order === "asc" ? ">" : "<";
    add(`(u.start_ms, u.client_id, u.session_id) ${after} (?, ?, ?)`, start, client, session);
  }
  const result = await site.db.execute({
    sql: `SELECT u.*, c.host_name, r.name AS rule_name FROM usage_sessions u
      LEFT JOIN clients c ON c.client_id = u.client_id
      LEFT JOIN rules r ON r.id = u.rule_id
      ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
      ORDER BY u.start_ms ${query.order}, u.client_id ${query.order}, u.session_id ${query.order}
      LIMIT ?`,
    args: [...args, query.limit + 1],
  });
  const rows = result.rows.slice(0, query.limit);
  const last = rows.at(-1);
  const nextCursor = result.rows.length > query.limit && last
    ? encodeCursor([last.start_ms as number, last.client_id as string, last.session_id as string])
    : null;
  return { sessions: rows.map(toOutput), nextCursor };
}

function toOutput(row: Record<string, unknown>): SessionOutput {
  const start = row.start_ms as number;
  const end = row.end_ms as number | null;
  return {
    id: row.session_id as string,
    clientId: row.client_id as string,
    hostName: (row.host_name as string | null) ?? "",
    ruleId: row.rule_id as string,
    ruleName: row.rule_name as string | null,
    user: row.user_name as string,
    exe: row.exe as string,
    argv0: row.argv0 as string,
    version: row.version as string | null,
    pid: row.pid as number,
    start: iso(start)!,
    end: iso(end),
    durationSeconds: end === null ? null : (end - start) / 1000,
    stillRunning: end === null,
    startNotCaptured: row.start_not_captured === 1,
    endNotCaptured: row.end_not_captured === 1,
    remote: row.remote === 1,
    clockCorrectionSeconds: (row.clock_offset_ms as number) / 1000,
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
