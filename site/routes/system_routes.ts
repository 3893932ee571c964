/**
 * Unauthenticated routes for operators and tools: `GET /v1/health`,
 * `GET /openapi.json` and `GET /metrics` (no usage data in any of them).
 *
 * @module
 */
import { Hono } from "hono";
import { METER_VERSION } from "../../model/version.ts";
import { openApiDocument } from "./openapi.ts";
import type { SiteContext } from "../site_context.ts";

export function systemRoutes(site: SiteContext): Hono {
  const app = new Hono();
  const openApi = openApiDocument(METER_VERSION);
  site.metrics.gauge(
    "meter_doc_cache_documents",
    "Documents in the hot cache",
    () => site.cache.size,
  );
  site.metrics.gauge(
    "meter_rules_waiting",
    "Agents held waiting for their rules to change (GET /v1/sync/wait)",
    () => site.rulesVersion.waiting,
  );
  site.metrics.gauge("meter_doc_cache_hits", "Hot cache hits since start", () => site.cache.hits);
  site.metrics.gauge(
    "meter_doc_cache_misses",
    "Hot cache misses since start",
    () => site.cache.misses,
  );
  site.metrics.gauge(
    "meter_doc_cache_stored_bytes",
    "Stored bytes of the documents in the hot cache (bounded; about 70 times as much in memory)",
    () => site.cache.bytes,
  );
  site.metrics.gauge(
    "meter_heap_used_bytes",
    "JavaScript heap in use by the site process, garbage not yet collected included",
    () => Deno.memoryUsage().heapUsed,
  );
  site.metrics.gauge(
    "meter_resident_memory_bytes",
    "Resident memory of the site process",
    () => Deno.memoryUsage().rss,
  );
  app.get("/v1/health", (c) =>
    c.json({
      status: "ok",
      site: site.code,
      version: METER_VERSION,
      uptimeSeconds: Math.round((Date.now() - site.startedAt) / 1000),
    }));
  app.get("/openapi.json", (c) => c.json(openApi));
  app.get(
    "/metrics",
    (c) => c.text(site.metrics.render(), 200, { "content-type": "text/plain; version=0.0.4" }),
  );
  return app;
}
