/**
 * The sync wire format: one HTTP body, CBOR-encoded, carries a batch of
 * Automerge sync messages, each for one document, so an agent with nothing
 * new finishes in one round trip however many documents it follows.
 *
 * - request `{items: [{doc, msg}], now}`: the peer's clock in ms when it
 *   sent the batch, which the server compares with its own to measure the
 *   peer's clock offset (optional: older peers leave it out)
 * - reply `{items: [{doc, msg}], read: [docId], now, syncAfter?, rules?}`:
 *   the server's messages, the documents the peer should follow read-only
 *   (its site's rules and its ancestors'), and the server's clock in ms. An
 *   agent's site adds when to sync next with nothing new (`syncAfter`,
 *   seconds) and the version of the rules it follows, to wait on
 *   (`rules`, `rules_wait.ts`). Both ride on every answer, so they are kept
 *   short: 8 hex digits tell one version from the next.
 *
 * @module
 */
import { decode, encode } from "cbor-x";
import { z } from "zod";
import { docIdSchema } from "../model/doc_id.ts";

/** The largest sync body a server accepts, and a client sends. */
export const MAX_SYNC_BODY_BYTES = 8 * 1024 * 1024;
/** Documents per batch; a client with more splits them over requests. */
export const MAX_SYNC_ITEMS = 1000;

export const CBOR_TYPE = "application/cbor";

const itemSchema = z.object({
  doc: docIdSchema,
  msg: z.custom<Uint8Array>((v) => v instanceof Uint8Array, "msg must be a byte string").refine(
    (msg) => msg.length > 0,
    "msg is empty",
  ),
}).strict();

export const syncRequestSchema = z.object({
  items: z.array(itemSchema).max(MAX_SYNC_ITEMS),
  now: z.number().int().positive().optional(),
}).strict();

/** A rules version: 8 hex digits of a hash of the followed rules documents' heads. */
export const rulesVersionSchema = z.string().regex(
  /^[0-9a-f]{8}$/,
  "a rules version is the rules of a sync answer: 8 hex digits",
);

export const syncReplySchema = z.object({
  items: z.array(itemSchema),
  read: z.array(docIdSchema),
  now: z.number(),
  syncAfter: z.number().int().min(1).max(86_400).optional(),
  rules: rulesVersionSchema.optional(),
});

export type SyncItem = z.infer<typeof itemSchema>;
export type SyncRequest = z.infer<typeof syncRequestSchema>;
export type SyncReply = z.infer<typeof syncReplySchema>;

export function encodeSyncBody(body: SyncRequest | SyncReply): Uint8Array {
  return encode(body);
}

/**
 * Decodes and validates a body; throws an `Error` whose message says what is
 * wrong (bad CBOR, or which field is invalid).
 */
export function decodeSyncBody<T>(bytes: Uint8Array, schema: z.ZodType<T>): T {
  let value: unknown;
  try {
    value = decode(bytes);
  } catch (error) {
    throw new Error(`body is not valid CBOR: ${(error as Error).message}`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new Error(`invalid sync body: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}
