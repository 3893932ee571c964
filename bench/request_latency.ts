/**
 * The latency of an HTTP GET, measured over repeated calls one after the
 * other (each answer read to its end), as the median and the 95th
 * percentile: what a person waiting for a report sees. Or sampled in the
 * background, a call now and then, while something else loads the server.
 *
 * @module
 */
import { backgroundLoop } from "./background_loop.ts";

export interface Latency {
  medianMs: number;
  p95Ms: number;
  /** Bytes of the last answer. */
  bytes: number;
  /** Every measured call, ms. */
  times: number[];
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
  return { medianMs: percentile(times, 0.5), p95Ms: percentile(times, 0.95), bytes, times };
}

/** The value below which a share `p` of the values lie (nearest rank). */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
}

/**
 * Calls `url` every `everyMs` in the background, one call at a time, until
 * stopped: the latencies of a light probe while something else loads the
 * server. `failures` counts answers other than 200 and calls that failed.
 */
export function sampleGetLatency(
  url: string,
  everyMs: number,
): { stop(): Promise<{ times: number[]; failures: number }> } {
  const times: number[] = [];
  let failures = 0;
  const loop = backgroundLoop(everyMs, async () => {
    const started = performance.now();
    try {
      const response = await fetch(url);
      await response.arrayBuffer();
      if (response.status === 200) times.push(performance.now() - started);
      else failures++;
    } catch {
      failures++;
    }
  });
  return {
    async stop() {
      await loop.stop();
      return { times, failures };
    },
  };
}
