/**
 * Decoding one document record: a CBOR byte string checked with zod. Every
 * record a peer sends passes through here, so a malformed one is named in
 * the error instead of reaching a table.
 *
 * @module
 */
import { decode } from "cbor-x";
import { z } from "zod";

/** Decodes `value` as CBOR and validates it; throws naming the record. */
export function decodeRecord<T>(what: string, value: unknown, schema: z.ZodType<T>): T {
  if (!(value instanceof Uint8Array)) throw new Error(`${what} is not a byte string`);
  let decoded: unknown;
  try {
    decoded = decode(value);
  } catch {
    throw new Error(`${what} is not valid CBOR`);
  }
  const parsed = schema.safeParse(decoded);
  if (!parsed.success) throw new Error(`${what} is malformed: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}
