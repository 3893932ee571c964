/**
 * The HTTP side of a sync exchange, for the agents' endpoint and the child
 * sites' alike: the request's body and headers handed to `sync/sync_body.ts`
 * (which refuses what is malformed with a `SyncRefusal`, answered by the
 * app's error handler), the reply written back, and the traffic counted.
 *
 * @module
 */
import type { Context } from "hono";
import {
  readSyncRequest,
  type SyncBodyHeaders,
  type SyncReply,
  type SyncRequest,
  writeSyncReply,
} from "../../sync/mod.ts";
import type { Metrics } from "../http/metrics.ts";

function bodyHeaders(c: Context): SyncBodyHeaders {
  return {
    contentType: c.req.header("content-type"),
    contentEncoding: c.req.header("content-encoding"),
    acceptEncoding: c.req.header("accept-encoding"),
  };
}

/** Reads and validates the batch, and how many bytes it took on the wire. */
export async function readSyncBody(
  c: Context,
): Promise<{ request: SyncRequest; wireBytes: number }> {
  const wire = new Uint8Array(await c.req.arrayBuffer());
  return { request: readSyncRequest(bodyHeaders(c), wire), wireBytes: wire.length };
}

export function syncResponse(
  c: Context,
  reply: SyncReply,
): { response: Response; wireBytes: number } {
  const { body, headers } = writeSyncReply(bodyHeaders(c), reply);
  return {
    response: c.body(body as Uint8Array<ArrayBuffer>, 200, headers),
    wireBytes: body.length,
  };
}

export function countSync(
  metrics: Metrics,
  peer: "agent" | "site",
  received: number,
  sent: number,
  ms: number,
): void {
  metrics.count("meter_sync_requests_total", "Sync requests answered", 1, { peer });
  metrics.count("meter_sync_bytes_received_total", "Sync body bytes received", received);
  metrics.count("meter_sync_bytes_sent_total", "Sync body bytes sent", sent);
  metrics.count("meter_sync_seconds_total", "Time spent answering sync requests", ms / 1000);
}
