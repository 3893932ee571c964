/**
 * Giving back the memory of documents the site no longer holds. An
 * Automerge document lives in WebAssembly memory that is freed only when V8
 * collects the JavaScript object that owns it (a finalizer). The site's
 * JavaScript heap stays small, so V8 collects rarely, and documents evicted
 * from the hot cache or loaded for one request pile up: under the 2,000-agent
 * load test resident memory grew by about 20 MB a minute while the heap's
 * live data stayed flat. A full collection every few seconds, only when
 * documents were loaded since the last one, keeps it bounded (measured: +16 %
 * over the run, levelling off, instead of +39 % and climbing).
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

/**
 * Collects when the count of documents loaded (`loads()`) moved since the
 * last call, and tells `collected` how long the collection held the site
 * (a full collection stops everything else; about 1 ms per MB of live heap).
 */
export function releaseLoadedDocuments(
  loads: () => number,
  collected: (ms: number) => void = () => {},
): () => Promise<void> {
  let seen = loads();
  return () => {
    const now = loads();
    if (now !== seen) {
      const started = performance.now();
      collectGarbage();
      collected(performance.now() - started);
    }
    seen = now;
    return Promise.resolve();
  };
}
