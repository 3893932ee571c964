/**
 * Network faults for the sync client, described with msw request handlers
 * and applied through the client's `fetch` option.
 *
 * msw 3 (`setupServer` from `msw/node`, with @mswjs/interceptors 0.45)
 * intercepts `fetch` at the level of Node's sockets; Deno's `fetch` does not
 * go through them, so `setupServer` sees nothing. This runs the same
 * handlers with msw's `getResponse` inside a `fetch` wrapper instead:
 *
 * - a handler's response is what the client gets;
 * - `HttpResponse.error()` becomes a network error (a rejected fetch);
 * - `passthrough()`, or no matching handler, sends the request to the real
 *   site; a handler can also forward it itself with `fetch(bypass(request))`
 *   and then answer something else;
 * - an abort of the request's signal (the client's timeout) rejects the
 *   fetch as it would a real one, whatever the handler is doing.
 *
 * @module
 */
import { getResponse, isPassthroughResponse, type RequestHandler } from "msw";

export interface FaultyFetch {
  fetch: typeof fetch;
  /** Requests the wrapper has seen. */
  readonly calls: number;
}

/** A `fetch` for the sync client that consults `handlers()` on every call. */
export function mswFetch(handlers: () => RequestHandler[]): FaultyFetch {
  const realFetch = globalThis.fetch;
  let calls = 0;
  const faulty = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    calls++;
    const request = new Request(input, init);
    const signal = request.signal;
    // Handlers read a clone, so the original body is there to pass through.
    const mocked = await untilAborted(getResponse(handlers(), request.clone()), signal);
    if (!mocked || isPassthroughResponse(mocked)) return await realFetch(request);
    if (mocked.type === "error") throw new TypeError("fetch failed (injected network error)");
    return mocked;
  };
  return {
    fetch: faulty as typeof fetch,
    get calls() {
      return calls;
    },
  };
}

/** Settles like `promise`, or rejects with the signal's reason once it aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/** Resolves when the signal aborts: a handler that never answers awaits it. */
export function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener("abort", () => resolve(), { once: true });
  });
}
