/**
 * Reading and answering a sync request, for the agents' endpoint and the
 * child sites' alike. The body is a CBOR batch of Automerge sync messages,
 * optionally `Content-Encoding: deflate`; it is limited in size before it is
 * read (and again as it inflates) and validated before anything is applied.
 * The reply is a CBOR batch too, compressed when the peer accepts deflate and
 * it pays.
 *
 * @module
 */
import type { Context } from "hono";
import { BodyEncodingError, compressBody, decompressBody } from "../../sync/body_compression.ts";
import {
  CBOR_TYPE,
  decodeSyncBody,
  encodeSyncBody,
  MAX_SYNC_BODY_BYTES,
  type SyncReply,
  type SyncRequest,
  syncRequestSchema,
} from "../../sync/sync_batch.ts";
import { ApiError, badRequest } from "../api_error.ts";
import type { SiteContext } from "../site_context.ts";

/** Decodes the batch; 415 for a wrong type or encoding, 413 past the limit, 400 if malformed. */
export async function readSyncRequest(
  c: Context,
): Promise<{ request: SyncRequest; wireBytes: number }> {
  if (!(c.req.header("content-type") ?? "").startsWith(CBOR_TYPE)) {
    throw new ApiError(415, "unsupported_media_type", `send the batch as ${CBOR_TYPE}`);
  }
  const wire = new Uint8Array(await c.req.arrayBuffer());
  let bytes: Uint8Array;
  try {
    bytes = decompressBody(wire, c.req.header("content-encoding") ?? null, MAX_SYNC_BODY_BYTES);
  } catch (error) {
    if (!(error instanceof BodyEncodingError)) throw error;
    if (error.tooLarge) throw new ApiError(413, "body_too_large", error.message);
    const unsupported = error.message.startsWith("unsupported");
    throw new ApiError(
      unsupported ? 415 : 400,
      unsupported ? "unsupported_encoding" : "invalid_body",
      error.message,
    );
  }
  try {
    return { request: decodeSyncBody(bytes, syncRequestSchema), wireBytes: wire.length };
  } catch (error) {
    throw badRequest((error as Error).message, "invalid_body");
  }
}

export function syncResponse(
  c: Context,
  reply: SyncReply,
): { response: Response; wireBytes: number } {
  const encoded = encodeSyncBody(reply);
  const accepts = (c.req.header("accept-encoding") ?? "").includes("deflate");
  const { body, encoding } = accepts
    ? compressBody(encoded)
    : { body: encoded, encoding: undefined };
  const headers: Record<string, string> = { "content-type": CBOR_TYPE };
  if (encoding) headers["content-encoding"] = encoding;
  return {
    response: c.body(body as Uint8Array<ArrayBuffer>, 200, headers),
    wireBytes: body.length,
  };
}

export function countSync(
  site: SiteContext,
  peer: "agent" | "site",
  received: number,
  sent: number,
  ms: number,
): void {
  const { metrics } = site;
  metrics.count("meter_sync_requests_total", "Sync requests answered", 1, { peer });
  metrics.count("meter_sync_bytes_received_total", "Sync body bytes received", received);
  metrics.count("meter_sync_bytes_sent_total", "Sync body bytes sent", sent);
  metrics.count("meter_sync_seconds_total", "Time spent answering sync requests", ms / 1000);
}
