/**
 * HTTP body compression for sync batches (`Content-Encoding: deflate`, the
 * zlib format of RFC 9110): bodies over a few hundred bytes are compressed,
 * smaller ones (heartbeats) are not worth it. Inflating is bounded, so a
 * small compressed body cannot expand past the size a server accepts.
 *
 * @module
 */
import { deflateSync, inflateSync } from "node:zlib";

export const DEFLATE = "deflate";

/** Bodies smaller than this travel as they are. */
const MIN_COMPRESSED_BYTES = 256;

/** The body to send, compressed when that pays, and its encoding. */
export function compressBody(bytes: Uint8Array): { body: Uint8Array; encoding?: string } {
  if (bytes.length < MIN_COMPRESSED_BYTES) return { body: bytes };
  const compressed = new Uint8Array(deflateSync(bytes));
  return compressed.length < bytes.length
    ? { body: compressed, encoding: DEFLATE }
    : { body: bytes };
}

/** Thrown when a body cannot be decoded as its encoding says. */
export class BodyEncodingError extends Error {
  constructor(message: string, readonly tooLarge = false) {
    super(message);
  }
}

/** Undoes `encoding` (none or `deflate`), inflating to at most `maxBytes`. */
export function decompressBody(
  bytes: Uint8Array,
  encoding: string | null,
  maxBytes: number,
): Uint8Array {
  if (!encoding || encoding === "identity") return bytes;
  if (encoding !== DEFLATE) {
    throw new BodyEncodingError(`unsupported content-encoding ${encoding}; use deflate`);
  }
  try {
    return new Uint8Array(inflateSync(bytes, { maxOutputLength: maxBytes }));
  } catch (error) {
    const tooLarge = (error as { code?: string }).code === "ERR_BUFFER_TOO_LARGE" ||
      error instanceof RangeError;
    throw new BodyEncodingError(
      tooLarge
        ? `the body inflates to more than ${maxBytes} bytes`
        : "the body is not valid deflate data",
      tooLarge,
    );
  }
}
