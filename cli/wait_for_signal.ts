/**
 * Waiting for the operator to stop a long-running command (SIGINT from
 * Ctrl-C, or SIGTERM from a service manager), so it can shut down cleanly.
 *
 * @module
 */
export function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      Deno.removeSignalListener("SIGINT", done);
      Deno.removeSignalListener("SIGTERM", done);
      resolve();
    };
    Deno.addSignalListener("SIGINT", done);
    Deno.addSignalListener("SIGTERM", done);
  });
}
