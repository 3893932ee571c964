/**
 * `POST /v1/sync`: the agents' sync endpoint. The body is a CBOR batch of
 * Automerge sync messages, limited in size before it is read and validated
 * before anything is applied; the reply is a CBOR batch too.
 *
 * @module
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import {
  CBOR_TYPE,
  decodeSyncBody,
  encodeSyncBody,
  MAX_SYNC_BODY_BYTES,
  syncRequestSchema,
} from "../../sync/sync_batch.ts";
import { ApiError, badRequest } from "../api_error.ts";
import { authenticateClient, bearer, type SiteEnv } from "../auth.ts";
import type { SiteContext } from "../site_context.ts";
import { agentPeer } from "../sync_peer.ts";
import { tooLarge } from "./too_large.ts";

export function syncRoute(site: SiteContext): Hono<SiteEnv> {
  const app = new Hono<SiteEnv>();
  app.post(
    "/",
    bodyLimit({ maxSize: MAX_SYNC_BODY_BYTES, onError: tooLarge(MAX_SYNC_BODY_BYTES) }),
    async (c) => {
      const started = performance.now();
      const client = await authenticateClient(site.db, bearer(c));
      if (!(c.req.header("content-type") ?? "").startsWith(CBOR_TYPE)) {
        throw new ApiError(415, "unsupported_media_type", `send the batch as ${CBOR_TYPE}`);
      }
      const bytes = new Uint8Array(await c.req.arrayBuffer());
      let request;
      try {
        request = decodeSyncBody(bytes, syncRequestSchema);
      } catch (error) {
        throw badRequest((error as Error).message, "invalid_body");
      }
      const peer = agentPeer(client.clientId, client.actors, site.code);
      const handled = await site.sync.handle(peer, request.items);
      site.lastSeen.seen(client.clientId);
      const reply = encodeSyncBody({ items: handled.items, read: peer.read, now: Date.now() });
      site.metrics.count("meter_sync_requests_total", "Sync requests answered", 1, {
        peer: "agent",
      });
      site.metrics.count(
        "meter_sync_bytes_received_total",
        "Sync body bytes received",
        bytes.length,
      );
      site.metrics.count("meter_sync_bytes_sent_total", "Sync body bytes sent", reply.length);
      site.metrics.count(
        "meter_sync_seconds_total",
        "Time spent answering sync requests",
        (performance.now() - started) / 1000,
      );
      return c.body(reply as Uint8Array<ArrayBuffer>, 200, { "content-type": CBOR_TYPE });
    },
  );
  return app;
}
