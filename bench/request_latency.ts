/**
 * The latency of an HTTP GET, measured over repeated calls one after the
 * other (each answer read to its end), as the median and the 95th
 * percentile: what a person waiting for a report sees.
 *
 * @module
 */

export interface Latency {
  medianMs: number;
  p95Ms: number;
  /** Bytes of the last answer. */
  bytes: number;
}

/** Calls `url` `calls` times after `warmUp` unmeasured calls; throws unless each answers 200. */
export async function measureGet(
  url: string,
  authorization: string,
  calls: number,
  warmUp = 2,
): Promise<Latency> {
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < warmUp + calls; i++) {
    const started = performance.now();
    const response = await fetch(url, { headers: { authorization } });
    const body = await response.arrayBuffer();
    const ms = performance.now() - started;
    if (response.status !== 200) {
      throw new Error(`GET ${url} answered ${response.status}: ${new TextDecoder().decode(body)}`);
    }
    bytes = body.byteLength;
    if (i >= warmUp) times.push(ms);
  }
  return { medianMs: percentile(times, 0.5), p95Ms: percentile(times, 0.95), bytes };
}

/** The value below which a share `p` of the values lie (nearest rank). */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
}
