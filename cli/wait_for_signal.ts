/**
 * Waiting for the operator to stop a long-running command, so it can shut
 * down cleanly: SIGINT from Ctrl-C or SIGTERM from a service manager; on
 * Windows, where Deno hears only these two, Ctrl-C and Ctrl-Break, and
 * (through `console_close.ts`) the console window closing.
 *
 * @module
 */
import { listenForConsoleClose } from "./console_close.ts";
const STOP_SIGNALS: Deno.Signal[] = Deno.build.os === "windows"
  ? ["SIGINT", "SIGBREAK"]
  : ["SIGINT", "SIGTERM"];

export function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      for (const signal of STOP_SIGNALS) Deno.removeSignalListener(signal, done);
      resolve();
    };
    for (const signal of STOP_SIGNALS) Deno.addSignalListener(signal, done);
  });
}

/** Runs `stop` once the operator asks for it (a signal, or a closing Windows console). */
export async function stopOnSignal(stop: () => Promise<void>): Promise<void> {
  const console = listenForConsoleClose();
  await Promise.race([waitForSignal(), console?.closing ?? new Promise<void>(() => {})]);
  try {
    await stop();
  } finally {
    console?.release();
  }
}
