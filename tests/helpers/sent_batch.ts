/**
 * Reading a sync batch as the client sent it: inflated when it travelled
 * compressed, then decoded.
 *
 * @module
 */
import { decompressBody } from "../../sync/body_compression.ts";
import {
  decodeSyncBody,
  MAX_SYNC_BODY_BYTES,
  type SyncRequest,
  syncRequestSchema,
} from "../../sync/sync_batch.ts";

export function decodeSentBatch(body: Uint8Array, encoding: string | null): SyncRequest {
  return decodeSyncBody(decompressBody(body, encoding, MAX_SYNC_BODY_BYTES), syncRequestSchema);
}

/** The `content-encoding` a fetch call set, whatever form its headers took. */
export function sentEncoding(init: RequestInit | undefined): string | null {
  return new Headers(init?.headers).get("content-encoding");
}
