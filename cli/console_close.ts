/**
 * Hearing that a Windows console is closing, so that an agent run in a
 * console window stops as cleanly as on Ctrl-C: Deno's signal listeners
 * hear only Ctrl-C and Ctrl-Break on Windows, and a closed window would
 * otherwise end the process at once. See `console_close_worker.ts` for how.
 * Elsewhere this does nothing.
 *
 * @module
 */

export interface ConsoleCloseListener {
  /** Resolves when the console is closing. */
  closing: Promise<void>;
  /** Once stopped: lets Windows end a closing console's process, and ends the listener. */
  release(): void;
  /** The registered handler's address, for the tests that call it as Windows would. */
  handler: Promise<bigint | null>;
}

/** Listens for the console closing, on Windows; `null` elsewhere. */
export function listenForConsoleClose(): ConsoleCloseListener | null {
  if (Deno.build.os !== "windows") return null;
  const shared = new SharedArrayBuffer(4);
  const stoppedFlag = new Int32Array(shared);
  const worker = new Worker(new URL("./console_close_worker.ts", import.meta.url), {
    type: "module",
  });
  let heard!: () => void;
  const closing = new Promise<void>((resolve) => heard = resolve);
  let registered!: (handler: bigint | null) => void;
  const handler = new Promise<bigint | null>((resolve) => registered = resolve);
  worker.onmessage = (event) => {
    if ("registered" in event.data) {
      registered(event.data.registered ? BigInt(event.data.handler) : null);
    } else heard();
  };
  worker.postMessage(shared);
  return {
    closing,
    handler,
    release() {
      Atomics.store(stoppedFlag, 0, 1);
      Atomics.notify(stoppedFlag, 0);
      // Not while Windows' handler thread is held: it returns on the notify.
      setTimeout(() => worker.terminate(), 100);
    },
  };
}
