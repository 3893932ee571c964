/**
 * Per-peer rate limits, as token buckets: each peer (an agent, a child site,
 * an address enrolling, an address sending bad credentials: `refusals.ts`)
 * may make `perMinute` requests a minute, in bursts of as many; past that it
 * is answered 429 with `Retry-After`, which the sync client honours. A
 * misbehaving or hostile agent then costs the site a map lookup per request
 * instead of a transaction.
 *
 * Buckets of peers idle for ten minutes are dropped now and then, so the map
 * holds the peers of the last minutes, not every peer ever seen.
 *
 * @module
 */
import { ApiError } from "./api_error.ts";

interface Bucket {
  tokens: number;
  at: number;
}

const IDLE_MS = 600_000;

export class RateLimits {
  readonly #buckets = new Map<string, Bucket>();
  #takes = 0;

  /** Takes one request for `key`; 429 naming `what` and when to retry when there is none left. */
  take(key: string, perMinute: number, what: string, now = Date.now()): void {
    const refused = this.tryTake(key, perMinute, what, now);
    if (refused) throw refused;
  }

  /** Takes one request for `key`, or returns the 429 to answer when there is none left. */
  tryTake(key: string, perMinute: number, what: string, now = Date.now()): ApiError | undefined {
    const wait = this.#wait(key, perMinute, now);
    if (wait === 0) return undefined;
    const seconds = Math.max(1, Math.ceil(wait / 1000));
    return new ApiError(
      429,
      "rate_limited",
      `too many ${what}: at most ${perMinute} a minute; retry in ${seconds} s`,
      { "retry-after": String(seconds) },
    );
  }

  /** 0 when a request may go now (and takes it), or the ms until one may. */
  #wait(key: string, perMinute: number, now: number): number {
    if (++this.#takes % 10_000 === 0) this.#sweep(now);
    const perMs = perMinute / 60_000;
    const bucket = this.#buckets.get(key) ?? { tokens: perMinute, at: now };
    bucket.tokens = Math.min(perMinute, bucket.tokens + (now - bucket.at) * perMs);
    bucket.at = now;
    this.#buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return (1 - bucket.tokens) / perMs;
  }

  #sweep(now: number): void {
    for (const [key, bucket] of this.#buckets) {
      if (now - bucket.at > IDLE_MS) this.#buckets.delete(key);
    }
  }
}
