/**
 * The command line that starts a query process: `meter query-process`, run
 * by the same Deno as the site with only what a query needs (read files, load
 * libSQL's native module, read the environment and the CPU list libSQL's
 * loader asks for) and a bounded JavaScript heap. No network, no writes
 * from JavaScript, no subprocesses.
 *
 * A compiled `meter` (`deno compile`) is its own runtime: it is started
 * with the command alone.
 *
 * @module
 */
import { basename } from "node:path";
import { fileURLToPath } from "node:url";

/** The JavaScript heap of a query process, in MiB: rows and answers are bounded below it. */
const HEAP_MIB = 192;

export function queryProcessCommand(): { command: string; args: string[] } {
  const command = Deno.execPath();
  if (!/^deno(\.exe)?$/i.test(basename(command))) return { command, args: ["query-process"] };
  return {
    command,
    args: [
      "run",
      "--no-prompt",
      "--allow-read",
      "--allow-ffi",
      "--allow-env",
      "--allow-sys",
      `--v8-flags=--max-old-space-size=${HEAP_MIB}`,
      `--config=${fileURLToPath(new URL("../../deno.json", import.meta.url))}`,
      fileURLToPath(new URL("../../main.ts", import.meta.url)),
      "query-process",
    ],
  };
}
