/**
 * The site's Hono app: every route, JSON errors for everything that goes
 * wrong, and a JSON 404 for unknown paths.
 *
 * @module
 */
import { Hono } from "hono";
import { ApiError, errorResponse } from "./http/api_error.ts";
import { SyncBusy, SyncRefusal } from "../sync/mod.ts";
import { randomSeconds } from "../lib/random_seconds.ts";
import { isRefusal, refuse } from "./access/refusals.ts";
import { auditRoutes } from "./routes/audit_routes.ts";
import { tokensRoutes } from "./routes/tokens_routes.ts";
import type { SiteEnv } from "./routes/auth.ts";
import { clientsRoutes } from "./routes/clients_routes.ts";
import { consoleRoutes } from "./console/console_routes.tsx";
import { enrollRoute } from "./routes/enroll_route.ts";
import { rulesRoutes } from "./routes/rules_routes.ts";
import { licencesRoutes } from "./routes/licences_routes.ts";
import { syncRoute } from "./routes/sync_route.ts";
import { collectionsRoutes } from "./routes/collections_routes.ts";
import { queryRoute } from "./routes/query_route.ts";
import { reportsRoute } from "./routes/reports_route.ts";
import { sitesRoutes } from "./routes/sites_routes.ts";
import { settingsRoutes } from "./routes/settings_routes.ts";
import { summariesRoute } from "./routes/summaries_route.ts";
import { systemRoutes } from "./routes/system_routes.ts";
import { usageRoutes } from "./routes/usage_routes.ts";
import type { SiteContext } from "./site_context.ts";

export function createApp(site: SiteContext): Hono<SiteEnv> {
  const app = new Hono<SiteEnv>();
  app.onError(async (thrown, c) => {
    const error = asApiError(thrown);
    return errorResponse(isRefusal(error) ? await refuse(site, c, error) : error, c);
  });
  app.notFound((c) =>
    c.json({
      error: {
        code: "not_found",
        message: `no route ${c.req.method} ${c.req.path}; see /openapi.json`,
      },
    }, 404)
  );
  app.use(async (c, next) => {
    await next();
    site.metrics.count("meter_http_responses_total", "HTTP responses by status", 1, {
      status: String(c.res.status),
    });
  });
  app.route("/", systemRoutes(site));
  app.route("/", consoleRoutes(site));
  app.route("/v1/enroll", enrollRoute(site));
  app.route("/v1/sync", syncRoute(site));
  app.route("/v1/rules", rulesRoutes(site));
  app.route("/v1/licences", licencesRoutes(site));
  app.route("/v1/usage", usageRoutes(site));
  app.route("/v1/clients", clientsRoutes(site));
  app.route("/v1/summaries", summariesRoute(site));
  app.route("/v1/reports", reportsRoute(site));
  app.route("/v1/collections", collectionsRoutes(site));
  app.route("/v1/query", queryRoute(site, { runner: site.queries }));
  app.route("/v1/settings", settingsRoutes(site));
  app.route("/v1/sites", sitesRoutes(site));
  app.route("/v1/tokens", tokensRoutes(site));
  app.route("/v1/audit", auditRoutes(site));
  return app;
}

/** A refusal of the sync protocol as the API error it stands for; anything else as it is. */
function asApiError(error: Error): Error {
  if (error instanceof SyncBusy) return busyError();
  return error instanceof SyncRefusal
    ? new ApiError(error.status, error.code, error.message)
    : error;
}

/** When a sync refused for a busy site comes back: spread, so a fleet does not return at once. */
const BUSY_RETRY_SECONDS = [10, 30] as const;

function busyError(): ApiError {
  const seconds = randomSeconds(...BUSY_RETRY_SECONDS);
  return new ApiError(
    429,
    "site_busy",
    `the site is behind with its writes; retry in ${seconds} s`,
    {
      "retry-after": String(seconds),
    },
  );
}
