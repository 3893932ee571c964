/**
 * `/v1/sites`: the hierarchy of sites.
 *
 * - `POST /v1/sites/register` (a `site` token): a child site joins, see
 *   `hierarchy/child_sites.ts`.
 * - `POST /v1/sites/sync` (a child's `<CODE>.<secret>`): the child sites'
 *   sync endpoint; a child reads the rules this site and its ancestors apply
 *   to child sites, and writes the list of sites below it and the summaries
 *   of its subtree (`sync_peer.ts`).
 * - `GET /v1/sites` (viewer, admin): the sites this one knows, JSON or CSV.
 * - `DELETE /v1/sites/:code` (admin): removes a registered child, its
 *   credential and what it listed below it (`removeChild`).
 *
 * @module
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { childSitePeer, MAX_SYNC_BODY_BYTES } from "../../sync/mod.ts";
import { bearer, requireRole, type SiteEnv } from "./auth.ts";
import { listResponse } from "../http/list_response.ts";
import { authenticateChildSite, registerChild, removeChild } from "../hierarchy/child_sites.ts";
import { siteCodeSchema } from "../../model/doc_id.ts";
import { badRequest, notFound } from "../http/api_error.ts";
import { subtreeOf } from "../hierarchy/known_sites.ts";
import { registerRequestSchema } from "../hierarchy/registration_body.ts";
import { listSites, SITE_COLUMNS } from "../hierarchy/site_list.ts";
import { jsonBody } from "../http/request_input.ts";
import type { SiteContext } from "../site_context.ts";
import { countSync, readSyncBody, syncResponse } from "./sync_exchange.ts";
import { tooLarge } from "./too_large.ts";
import { peerAddress } from "../http/peer_address.ts";

export function sitesRoutes(site: SiteContext): Hono<SiteEnv> {
  const app = new Hono<SiteEnv>();
  app.get("/", requireRole(site.db, "viewer", "admin"), async (c) => {
    const sites = await listSites(site);
    return listResponse(c, SITE_COLUMNS, sites, { sites });
  });
  app.delete("/:code", requireRole(site.db, "admin"), async (c) => {
    const code = c.req.param("code");
    if (!siteCodeSchema.safeParse(code).success) {
      throw badRequest(`${code} is not a site code (3 capital letters or digits)`);
    }
    if (!await removeChild(site, code)) throw notFound(`no child site ${code} is registered here`);
    return c.body(null, 204);
  });
  app.post("/register", bodyLimit({ maxSize: 4096, onError: tooLarge(4096) }), async (c) => {
    site.limits.take(
      `address:${peerAddress(c.env)}`,
      site.settings.enrollRequestsPerMinute,
      "registrations from this address",
    );
    const presented = bearer(c);
    const body = await jsonBody(c, registerRequestSchema);
    return c.json(await registerChild(site, presented, body), 201);
  });
  app.post(
    "/sync",
    bodyLimit({ maxSize: MAX_SYNC_BODY_BYTES, onError: tooLarge(MAX_SYNC_BODY_BYTES) }),
    async (c) => {
      const started = performance.now();
      const child = await authenticateChildSite(site.db, bearer(c));
      const perMinute = site.settings.syncRequestsPerMinute;
      site.limits.take(`site:${child.code}`, perMinute, "sync requests from this site");
      const { request, wireBytes } = await readSyncBody(c);
      // The child's own row is in its subtree as long as no ancestor has taken its code.
      const subtree = await subtreeOf(site.db, child.code);
      const peer = childSitePeer(child.code, subtree, site.code, site.ancestors);
      const handled = await site.sync.handle(peer, request.items);
      await site.db.execute({
        sql: "UPDATE child_sites SET last_sync_at = ? WHERE code = ?",
        args: [Date.now(), child.code],
      });
      const response = syncResponse(c, { items: handled.items, read: peer.read, now: Date.now() });
      countSync(site.metrics, "site", wireBytes, response.wireBytes, performance.now() - started);
      return response.response;
    },
  );
  return app;
}
