/**
 * `GET /v1/sync/wait?rules=<version>&seconds=<n>`: an agent waits for its
 * rules to change (`sync/rules_wait.ts`). The answer comes at once when the
 * version it names is gone, else when it changes or `seconds` pass, and at
 * once, saying when to ask again, while the site holds `maxWaitingAgents`
 * waits already. Only the site's own agents wait here: an agent of a site
 * below that left its usage here follows its own site's rules.
 *
 * @module
 */
import { Hono } from "hono";
import { rulesWaitQuerySchema, type RulesWaitReply } from "../../sync/mod.ts";
import { ApiError } from "../http/api_error.ts";
import { queryInput } from "../http/request_input.ts";
import { randomSeconds } from "../../lib/random_seconds.ts";
import type { SiteContext } from "../site_context.ts";
import { authenticateClient, bearer, type SiteEnv } from "./auth.ts";

/** When an agent not held asks again: within a minute, spread so the fleet does not come at once. */
const ASK_AGAIN_SECONDS = [30, 55] as const;

export function rulesWaitRoute(site: SiteContext): Hono<SiteEnv> {
  const app = new Hono<SiteEnv>();
  app.get("/", async (c) => {
    const client = await authenticateClient(site.credentials, site.db, bearer(c));
    if (client.homeSite) {
      throw new ApiError(403, "forbidden", "wait for rules at your own site");
    }
    const perMinute = site.settings.syncRequestsPerMinute;
    site.limits.take(`wait:${client.clientId}`, perMinute, "rule waits from this agent");
    const query = queryInput(c, rulesWaitQuerySchema);
    const held = query.seconds > 0 &&
      site.rulesVersion.waiting < site.settings.maxWaitingAgents;
    // Not cut short when the agent goes away: Deno's request.signal also aborts once a
    // response is sent, and warns when read; the wait ends at its time, and its count is capped.
    const version = await site.rulesVersion.wait(query.rules, held ? query.seconds * 1000 : 0);
    const changed = version !== query.rules;
    const reply: RulesWaitReply = {
      changed,
      rulesVersion: version,
      waitAgainAfter: changed || held ? 0 : randomSeconds(...ASK_AGAIN_SECONDS),
    };
    // Not held, the agent is back in half a minute: its connection is not worth keeping open.
    if (!changed && !held) c.header("connection", "close");
    return c.json(reply);
  });
  return app;
}
