/**
 * `POST /v1/summaries/run` (admin): summarise now what changed, instead of
 * waiting for the schedule; with `{"rebuild": true}`, throw the summaries
 * away and compute them again from the raw sessions. Answers what was done.
 *
 * @module
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { z } from "zod";
import { requireRole, type SiteEnv } from "./auth.ts";
import { jsonBody } from "../http/request_input.ts";
import type { SiteContext } from "../site_context.ts";
import { tooLarge } from "./too_large.ts";

export const summaryRunRequestSchema = z.object({ rebuild: z.boolean().optional() }).strict();

export const summaryRunReplySchema = z.object({
  sessions: z.number(),
  hours: z.number(),
  clientDays: z.number(),
  refreshedRunning: z.boolean(),
  ms: z.number(),
});

export function summariesRoute(site: SiteContext): Hono<SiteEnv> {
  const app = new Hono<SiteEnv>();
  const limit = bodyLimit({ maxSize: 1024, onError: tooLarge(1024) });
  app.post("/run", requireRole(site.db, "admin"), limit, async (c) => {
    const hasBody = (c.req.header("content-length") ?? "0") !== "0";
    const { rebuild } = hasBody ? await jsonBody(c, summaryRunRequestSchema) : {};
    const done = rebuild ? await site.summarizer.rebuild() : await site.summarizer.run();
    return c.json(done);
  });
  return app;
}
