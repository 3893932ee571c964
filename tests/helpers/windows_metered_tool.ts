/**
 * A real Windows program for the Windows tests to meter:
 * tests/fixtures/windows/metered_tool.c (sleeps argv[1] seconds) with the
 * version resource of metered_tool.rc, built with mingw-w64.
 *
 * @module
 */
import { join } from "node:path";
import { runCachedStep, sha256Hex } from "./cached_step.ts";
import { runChecked } from "./checked_command.ts";
import { withFileLock } from "./file_lock.ts";
import type { WineEnvironment } from "./wine.ts";

const SOURCE = new URL("../fixtures/windows/metered_tool.c", import.meta.url).pathname;
const RESOURCES = new URL("../fixtures/windows/metered_tool.rc", import.meta.url).pathname;

/**
 * Builds the program into the environment's cache unless it is there from
 * the same sources, and returns its Linux path (run it with `runWindowsProgram`).
 */
export async function buildMeteredTool(envt: WineEnvironment): Promise<string> {
  const dir = join(envt.cacheDir, "metered_tool");
  const exe = join(dir, "metered_tool.exe");
  const key = `${await sha256Hex(await Deno.readFile(SOURCE))} ${await sha256Hex(
    await Deno.readFile(RESOURCES),
  )}`;
  await withFileLock(join(envt.cacheDir, "lock"), async () => {
    await runCachedStep({
      stampDir: join(envt.cacheDir, "stamps"),
      name: "metered-tool",
      key,
      outputs: [exe],
      run: async () => {
        await Deno.mkdir(dir, { recursive: true });
        const resources = join(dir, "metered_tool.res.o");
        await runChecked("x86_64-w64-mingw32-windres", ["-O", "coff", "-o", resources, RESOURCES]);
        // Built beside and renamed, so no one runs a half-written program.
        const building = join(dir, `metered_tool.${Deno.pid}.tmp.exe`);
        await runChecked("x86_64-w64-mingw32-gcc", [
          "-O2",
          "-s",
          "-Wall",
          "-o",
          building,
          SOURCE,
          resources,
        ]);
        await Deno.rename(building, exe);
      },
    });
  });
  return exe;
}
