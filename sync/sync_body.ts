/**
 * The server's reading and writing of sync bodies, for the agents' endpoint
 * and the child sites' alike. A request body is a CBOR batch of Automerge
 * sync messages, optionally `Content-Encoding: deflate`; it is limited in
 * size before it is read (and again as it inflates) and validated before
 * anything is applied. The reply is a CBOR batch too, compressed when the
 * peer accepts deflate and it pays.
 *
 * @module
 */
import { BodyEncodingError, compressBody, decompressBody } from "./body_compression.ts";
import {
  CBOR_TYPE,
  decodeSyncBody,
  encodeSyncBody,
  MAX_SYNC_BODY_BYTES,
  type SyncReply,
  type SyncRequest,
  syncRequestSchema,
} from "./sync_batch.ts";
import { malformedBatch, SyncRefusal } from "./sync_refusal.ts";

/** The request's headers that decide how its body is read and its reply written. */
export interface SyncBodyHeaders {
  contentType: string | undefined;
  contentEncoding: string | undefined;
  acceptEncoding: string | undefined;
}

/** Decodes the batch; 415 for a wrong type or encoding, 413 past the limit, 400 if malformed. */
export function readSyncRequest(headers: SyncBodyHeaders, wire: Uint8Array): SyncRequest {
  if (!(headers.contentType ?? "").startsWith(CBOR_TYPE)) {
    throw new SyncRefusal(415, "unsupported_media_type", `send the batch as ${CBOR_TYPE}`);
  }
  let bytes: Uint8Array;
  try {
    bytes = decompressBody(wire, headers.contentEncoding ?? null, MAX_SYNC_BODY_BYTES);
  } catch (error) {
    if (!(error instanceof BodyEncodingError)) throw error;
    if (error.tooLarge) throw new SyncRefusal(413, "body_too_large", error.message);
    const unsupported = error.message.startsWith("unsupported");
    throw new SyncRefusal(
      unsupported ? 415 : 400,
      unsupported ? "unsupported_encoding" : "invalid_body",
      error.message,
    );
  }
  try {
    return decodeSyncBody(bytes, syncRequestSchema);
  } catch (error) {
    throw malformedBatch((error as Error).message, "invalid_body");
  }
}

/** The reply's body and headers, deflated when the peer accepts it. */
export function writeSyncReply(
  headers: SyncBodyHeaders,
  reply: SyncReply,
): { body: Uint8Array; headers: Record<string, string> } {
  const encoded = encodeSyncBody(reply);
  const accepts = (headers.acceptEncoding ?? "").includes("deflate");
  const { body, encoding } = accepts
    ? compressBody(encoded)
    : { body: encoded, encoding: undefined };
  const replyHeaders: Record<string, string> = { "content-type": CBOR_TYPE };
  if (encoding) replyHeaders["content-encoding"] = encoding;
  return { body, headers: replyHeaders };
}
