/**
 * Giving back the memory of documents the site no longer holds. An
 * Automerge document lives in WebAssembly memory that is freed only when V8
 * collects the JavaScript object that owns it (a finalizer). The site's
 * JavaScript heap stays small, so V8 collects rarely, and documents evicted
 * from the hot cache or loaded for one request pile up: under the 2,000-agent
 * load test resident memory grew by about 20 MB a minute while the heap's
 * live data stayed flat. A full collection once the heap grew, with documents
 * loaded, since the last one keeps it bounded.
 *
 * @module
 */
import v8 from "node:v8";
import vm from "node:vm";

let collect: (() => void) | undefined;

/** A full garbage collection (V8's `gc`, exposed once on first use). */
export function collectGarbage(): void {
  if (!collect) {
    v8.setFlagsFromString("--expose-gc");
    collect = vm.runInNewContext("gc") as () => void;
  }
  collect();
}

export interface ReleaseOptions {
  /** Documents loaded so far (the hot cache's misses). */
  loads: () => number;
  /** Told how long each collection held the site. */
  collected?: (ms: number) => void;
  /** The JavaScript heap in use now, garbage included, in bytes. */
  heapUsed?: () => number;
  /** Growth of the heap over what was live after the last collection that starts one. */
  growthBytes?: number;
}

/**
 * Heap growth that starts a collection: under the 2,000-agent load, about
 * half a minute of garbage, where V8 by itself let it reach 200 MB.
 */
export const DEFAULT_GROWTH_BYTES = 48 * 1024 * 1024;

/**
 * A task to run every few seconds: a full collection when documents were
 * loaded since the last call and the heap grew by `growthBytes` over what
 * was live after the last collection. A document's garbage in the heap comes
 * with its garbage in WebAssembly memory, which V8 does not count, so the
 * heap's growth tells when there is memory worth giving back. A full
 * collection stops everything else (about 1 ms per MB of live heap; 170 ms
 * each under the 2,000-agent load when it ran every 5 s, which made most of
 * the latency tail), so it runs on growth, not on a clock.
 */
export function releaseLoadedDocuments(options: ReleaseOptions): () => Promise<void> {
  const {
    loads,
    collected = () => {},
    heapUsed = () => Deno.memoryUsage().heapUsed,
    growthBytes = DEFAULT_GROWTH_BYTES,
  } = options;
  let seen = loads();
  let live = heapUsed();
  return () => {
    const now = loads();
    const heap = heapUsed();
    // V8's own collections lower the mark too.
    live = Math.min(live, heap);
    if (now !== seen && heap - live >= growthBytes) {
      const started = performance.now();
      collectGarbage();
      collected(performance.now() - started);
      live = heapUsed();
    }
    seen = now;
    return Promise.resolve();
  };
}
