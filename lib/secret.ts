/**
 * Secrets: random tokens, their stored form (SHA-256; the secrets are 256
 * random bits, so no salt or slow hash is needed) and a constant-time
 * comparison, so that a stored hash never reveals a secret and a comparison
 * never reveals how much of a guess was right.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** A new random secret, URL-safe, with 256 bits of entropy. */
export function newSecret(): string {
  return randomBytes(32).toString("base64url");
}

/** A short random id of lower-case letters and digits. */
export function newId(length = 12): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  const bytes = randomBytes(length);
  let id = "";
  for (const byte of bytes) id += alphabet[byte % alphabet.length];
  return id;
}

export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}

/** Compares two hex hashes in constant time. */
export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, "hex");
  const y = Buffer.from(b, "hex");
  return x.length === y.length && timingSafeEqual(x, y);
}

/** A random Automerge actor id: 16 bytes as 32 hex digits. */
export function newActorId(): string {
  return randomBytes(16).toString("hex");
}
