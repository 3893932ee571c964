/**
 * The worker behind `console_close.ts`: it registers a console control
 * handler with Windows and, when the console closes (logoff and shutdown,
 * which Windows sends to services only, are treated alike), tells the main thread and holds Windows' handler
 * thread until the main thread has stopped cleanly (Windows ends the
 * process as soon as the handler returns, or after about 5 s).
 *
 * It lives in a worker because Windows calls the handler on a thread of its
 * own, and Deno runs such a callback on the isolate that made it, waiting
 * for its answer: on the main thread the handler could not wait for the
 * stop without blocking the stop itself.
 *
 * Ctrl-C and Ctrl-Break are passed on (the handler answers FALSE), to
 * Deno's own signal listeners.
 *
 * @module
 */
/// <reference lib="deno.worker" />

const CTRL_CLOSE_EVENT = 2;
const CTRL_LOGOFF_EVENT = 5;
const CTRL_SHUTDOWN_EVENT = 6;
/** A little less than the 5 s Windows gives a closing console. */
const HOLD_MS = 4_500;

self.onmessage = (event: MessageEvent<SharedArrayBuffer>) => {
  const stopped = new Int32Array(event.data);
  const kernel32 = Deno.dlopen("kernel32.dll", {
    SetConsoleCtrlHandler: { parameters: ["function", "i32"], result: "i32" },
  });
  const handler = Deno.UnsafeCallback.threadSafe(
    { parameters: ["u32"], result: "i32" },
    (type: number) => {
      if (type !== CTRL_CLOSE_EVENT && type !== CTRL_LOGOFF_EVENT && type !== CTRL_SHUTDOWN_EVENT) {
        return 0;
      }
      self.postMessage({ type });
      Atomics.wait(stopped, 0, 0, HOLD_MS);
      return 1;
    },
  );
  const ok = kernel32.symbols.SetConsoleCtrlHandler(handler.pointer, 1) !== 0;
  self.postMessage({ registered: ok, handler: String(Deno.UnsafePointer.value(handler.pointer)) });
};
