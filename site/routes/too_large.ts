/**
 * The answer to a body over its route's limit: 413 with a JSON error, given
 * before anything of the body is decoded.
 *
 * @module
 */
import type { Context } from "hono";

export function tooLarge(maxBytes: number) {
  return (c: Context) =>
    c.json({
      error: {
        code: "body_too_large",
        message: `the body is larger than this endpoint accepts (${maxBytes} bytes)`,
      },
    }, 413);
}
