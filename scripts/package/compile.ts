/**
 * The single executable from `deno compile`, where the release machine can
 * get Deno's compile base (`denort`): downloaded from dl.deno.land, or taken
 * from the file `DENORT_BIN` names (an offline release machine). Where it
 * cannot, the package ships the runtime and the source instead, and says so.
 *
 * Run alone (`deno task compile`), it compiles this checkout into `dist/meter`.
 *
 * @module
 */
import { join } from "node:path";
import { run } from "./run.ts";

/** Workers started by file name, which `deno compile` must be told to embed. */
const WORKERS = [
  "site/summaries/summarizer_worker.ts",
  "cli/console_close_worker.ts",
  "store/database_copy_worker.ts",
  "agent/linux/process_events_worker.ts",
];

/**
 * Compiles the staged `app` with the Linux `deno`; returns the executable's
 * path, or the reason it could not be made.
 */
export async function compileMeter(
  deno: string,
  app: string,
  workDir: string,
): Promise<{ executable: string } | { reason: string }> {
  const executable = join(workDir, "meter");
  try {
    await run(deno, [
      "compile",
      "--allow-all",
      "--no-prompt",
      ...WORKERS.flatMap((worker) => ["--include", worker]),
      "--target",
      "x86_64-unknown-linux-gnu",
      "--output",
      executable,
      "main.ts",
    ], { cwd: app, env: { DENO_NO_UPDATE_CHECK: "1" } });
    return { executable };
  } catch (error) {
    // Deno's own error, not the command line: its first cause says why.
    const lines = (error as Error).message.split("\n").slice(1).map((line) => line.trim());
    const cause = lines.find((line) => line.startsWith("1: "))?.slice(3);
    return { reason: cause ?? lines.find((line) => /error/i.test(line)) ?? "deno compile failed" };
  }
}

if (import.meta.main) {
  const root = new URL("../..", import.meta.url).pathname;
  await Deno.mkdir(join(root, "dist"), { recursive: true });
  const result = await compileMeter(Deno.execPath(), root, join(root, "dist"));
  if ("reason" in result) {
    console.error(`compile: cannot compile: ${result.reason}`);
    Deno.exit(1);
  }
  console.log(result.executable);
}
