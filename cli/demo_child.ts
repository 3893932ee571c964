/**
 * The demo's two processes, a site and an agent: each started as
 * `meter site` or `meter agent` with the permissions it needs, its log
 * written to a file, stopped on request, and watched in case it stops on
 * its own.
 *
 * @module
 */
import { join } from "node:path";

/**
 * The site runs with just what it needs; the agent needs `--allow-all`,
 * because Deno opens `/proc` to nothing less.
 */
const PERMISSIONS: Record<string, string[]> = {
  site: [
    "--allow-read",
    "--allow-write",
    "--allow-net",
    "--allow-env",
    "--allow-ffi",
    "--allow-sys",
  ],
  agent: ["--allow-all"],
};

export interface Child {
  process: Deno.ChildProcess;
  /** The first line the command prints on stdout. */
  firstLine: Promise<string>;
}

/** Says which of the demo's processes stopped first, with its exit code and log. */
export function firstToExit(children: Record<string, Child>, dataDir: string): Promise<string> {
  return Promise.race(
    Object.entries(children).map(([name, child]) =>
      child.process.status.then(({ code }) =>
        `the ${name} stopped (exit code ${code}); see ${join(dataDir, `${name}.log`)}`
      )
    ),
  );
}

/** Asks a child to stop, unless it already has. */
export function stopChild(child: Child): void {
  try {
    child.process.kill("SIGTERM");
  } catch {
    // Already exited: Deno refuses to signal a process it has reaped.
  }
}

/** Starts `meter COMMAND ARGS` with its permissions, its stderr appended to `logFile`. */
export async function startChild(command: string, args: string[], logFile: string): Promise<Child> {
  const main = new URL("../main.ts", import.meta.url).pathname;
  const log = await Deno.open(logFile, { create: true, write: true, append: true });
  const process = new Deno.Command(Deno.execPath(), {
    args: ["run", ...PERMISSIONS[command], main, command, ...args],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  (async () => {
    for await (const chunk of process.stderr) await log.write(chunk);
  })().catch(() => {});
  const firstLine = (async () => {
    const decoder = new TextDecoder();
    let text = "";
    for await (const chunk of process.stdout) {
      text += decoder.decode(chunk);
      if (text.includes("\n")) break;
    }
    return text.split("\n")[0];
  })();
  return { process, firstLine };
}
