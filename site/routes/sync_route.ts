/**
 * `POST /v1/sync`: the agents' sync endpoint. The body is a CBOR batch of
 * Automerge sync messages, limited in size and validated before anything is
 * applied (`sync_exchange.ts`); the agent may write its own usage and
 * inventory and read the rules it follows. An agent of a site below, whose
 * own site is away, may leave its usage here (`fallbackAgentPeer`). The
 * agent's clock in the batch gives its clock offset, recorded for
 * `GET /v1/clients` and used to correct the times it sends.
 *
 * The answer to one of the site's own agents says when to sync next with
 * nothing new (`agentSyncSeconds`, varied by up to 10 %) and the version of
 * its rules, which `GET /v1/sync/wait` (`rules_wait_route.ts`) waits on.
 *
 * @module
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { agentPeer, clockOffset, fallbackAgentPeer, MAX_SYNC_BODY_BYTES } from "../../sync/mod.ts";
import { authenticateClient, bearer, type SiteEnv } from "./auth.ts";
import type { SiteContext } from "../site_context.ts";
import { countSync, readSyncBody, syncResponse } from "./sync_exchange.ts";
import { tooLarge } from "./too_large.ts";
import { randomSeconds } from "../../lib/random_seconds.ts";
import { rulesWaitRoute } from "./rules_wait_route.ts";

export function syncRoute(site: SiteContext): Hono<SiteEnv> {
  const app = new Hono<SiteEnv>();
  app.route("/wait", rulesWaitRoute(site));
  app.post(
    "/",
    bodyLimit({ maxSize: MAX_SYNC_BODY_BYTES, onError: tooLarge(MAX_SYNC_BODY_BYTES) }),
    async (c) => {
      const started = performance.now();
      const arrived = Date.now();
      const client = await authenticateClient(site.credentials, site.db, bearer(c));
      const perMinute = site.settings.syncRequestsPerMinute;
      site.limits.take(`client:${client.clientId}`, perMinute, "sync requests from this agent");
      const { request, wireBytes } = await readSyncBody(c);
      const offset = request.now === undefined ? undefined : clockOffset(request.now, arrived);
      const peer = {
        ...(client.homeSite
          ? fallbackAgentPeer(client.clientId, client.actors)
          : agentPeer(client.clientId, client.actors, site.code, site.ancestors)),
        clockCorrectionMs: offset?.correctionMs,
      };
      // Read before the rules are synced: a change in between then costs a spare sync, never a miss.
      const schedule = client.homeSite ? {} : await agentSchedule(site);
      const handled = await site.sync.handle(peer, request.items);
      site.lastSeen.seen(client.clientId, arrived, offset?.measuredMs);
      const response = syncResponse(c, {
        items: handled.items,
        read: peer.read,
        now: Date.now(),
        ...schedule,
      });
      countSync(site.metrics, "agent", wireBytes, response.wireBytes, performance.now() - started);
      return response.response;
    },
  );
  return app;
}

/** When the agent syncs next with nothing new, spread by up to 10 %, and its rules' version. */
async function agentSchedule(site: SiteContext) {
  const seconds = site.settings.agentSyncSeconds;
  return {
    syncAfter: Math.max(1, randomSeconds(seconds * 0.9, seconds * 1.1)),
    rules: await site.rulesVersion.current(),
  };
}
