/**
 * `POST /v1/enroll`: an agent presents an enrolment token and its Automerge
 * actor id, and gets a client id and a secret. The site stores only the
 * secret's hash, in `client_secrets` (never in `clients`), and binds the
 * actor to the client, so that the client's documents accept changes from
 * that actor alone.
 *
 * @module
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { log } from "../../lib/log.ts";
import { hashSecret, newId, newSecret } from "../../lib/secret.ts";
import { ApiError } from "../http/api_error.ts";
import { bearer, type SiteEnv } from "./auth.ts";
import { tokenRefused } from "../access/token_refusal.ts";
import { jsonBody } from "../http/request_input.ts";
import type { SiteContext } from "../site_context.ts";
import { followedRules } from "../../sync/mod.ts";
import { checkToken } from "../access/tokens.ts";
import {
  type EnrollReply,
  type EnrollRequest,
  enrollRequestSchema,
} from "../../model/enrolment_body.ts";
import { tooLarge } from "./too_large.ts";
import { peerAddress } from "../http/peer_address.ts";
import { insertClientStatement } from "../clients/clients_table.ts";
import { actorTaken, insertCredentialStatements } from "../clients/client_secrets_table.ts";

export function enrollRoute(site: SiteContext): Hono<SiteEnv> {
  const app = new Hono<SiteEnv>();
  app.post("/", bodyLimit({ maxSize: 4096, onError: tooLarge(4096) }), async (c) => {
    site.limits.take(
      `address:${peerAddress(c.env)}`,
      site.settings.enrollRequestsPerMinute,
      "enrolments from this address",
    );
    const presented = bearer(c);
    const body = await jsonBody(c, enrollRequestSchema);
    return c.json(await enrollClient(site, presented, body), 201);
  });
  return app;
}

/** Creates the client; under the write lock, so two agents cannot both take a token's last use. */
function enrollClient(
  site: SiteContext,
  presented: string,
  body: EnrollRequest,
): Promise<EnrollReply> {
  return site.lock.run(async () => {
    const check = await checkToken(site.db, presented, ["enroll"]);
    if (!check.ok) throw tokenRefused(check, "cannot enrol");
    const clientId = newId(12);
    const secret = newSecret();
    const now = Date.now();
    if (await actorTaken(site.db, body.actor)) {
      throw new ApiError(
        409,
        "actor_taken",
        "that actor id is bound to another client; use a new one",
      );
    }
    await site.db.batch([
      insertClientStatement({
        clientId,
        hostName: body.hostName,
        enrolledAt: now,
        enrolledWith: check.token.id,
      }),
      ...insertCredentialStatements(clientId, hashSecret(secret), body.actor),
      {
        sql: "UPDATE tokens SET last_used_at = ?, uses_left = uses_left - 1 WHERE id = ?",
        args: [now, check.token.id],
      },
    ], "write");
    log.info("client enrolled", { clientId, hostName: body.hostName, token: check.token.id });
    return {
      clientId,
      secret,
      siteCode: site.code,
      read: followedRules(site.code, site.ancestors),
    };
  });
}
