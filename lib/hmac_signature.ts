/**
 * The signature of a webhook body, as GitHub and Stripe sign theirs: an
 * HMAC-SHA256 over `<timestamp>.<body>` with a shared secret, written
 * `sha256=<hex>`. The timestamp is signed too, so a receiver that also
 * refuses old timestamps cannot be replayed an old notification.
 *
 * @module
 */
import { createHmac } from "node:crypto";

export function hmacSignature(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`;
}
