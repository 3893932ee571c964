/**
 * The Wine prefix of the Windows tests: an empty Windows made with
 * `wineboot`, plus the one DLL that Wine 8.0 lacks and the Windows deno.exe
 * needs, a stand-in built from tests/fixtures/windows/bcryptprimitives_stand_in.c
 * (its comment says what it does and why; it exists only in the tests).
 *
 * @module
 */
import { join } from "node:path";
import { runCachedStep, sha256Hex } from "./cached_step.ts";
import { runChecked } from "./checked_command.ts";

export const WINE = "/usr/bin/wine";
export const WINESERVER = "/usr/bin/wineserver";

/** Ends the prefix's Wine processes and its server; exits non-zero when none runs, which is fine. */
export async function killWineServer(env: Record<string, string>): Promise<void> {
  await new Deno.Command(WINESERVER, {
    args: ["-k"],
    env,
    clearEnv: true,
    stdout: "null",
    stderr: "null",
  }).output();
}

const STAND_IN_SOURCE = new URL("../fixtures/windows/bcryptprimitives_stand_in.c", import.meta.url)
  .pathname;

/**
 * The environment Wine needs for `prefix`. Only these variables: Wine hands
 * the Unix environment to Windows programs, and the Linux values of, say,
 * DENO_DIR or DISPLAY would mislead them.
 */
export function wineEnvironment(prefix: string): Record<string, string> {
  return {
    PATH: "/usr/local/bin:/usr/bin:/bin",
    HOME: Deno.env.get("HOME") ?? "/root",
    USER: Deno.env.get("USER") ?? "root",
    LANG: "C.UTF-8",
    WINEPREFIX: prefix,
    // Wine's diagnostics would drown the programs' own stderr.
    WINEDEBUG: "-all",
    // Without these, wineboot offers to download Mono and Gecko in a dialog.
    WINEDLLOVERRIDES: "mscoree,mshtml=",
    // The Windows deno would otherwise try to reach the network to look for updates.
    DENO_NO_UPDATE_CHECK: "1",
  };
}

/**
 * Makes the prefix at `prefix` (about 10 s, 900 MB) unless it is there for
 * this Wine version, installs the stand-in DLL when its source changed, and
 * starts the prefix's wineserver to stay (see `startWineServer`).
 */
export async function preparePrefix(cacheDir: string, prefix: string): Promise<void> {
  const env = wineEnvironment(prefix);
  const stampDir = join(cacheDir, "stamps");
  const wineVersion = (await runChecked(WINE, ["--version"], { env, clearEnv: true })).trim();
  await runCachedStep({
    stampDir,
    name: "prefix",
    key: wineVersion,
    outputs: [join(prefix, "system.reg")],
    run: async () => {
      console.error(`[wine] making a Wine prefix (${wineVersion}) in ${prefix}, about 10 s ...`);
      await Deno.remove(prefix, { recursive: true }).catch(() => {});
      await runChecked(WINE, ["wineboot", "-i"], { env, clearEnv: true });
      // Wait until the server has written the registry out: a later run must
      // find a complete prefix, not one the server was still writing.
      await runChecked(WINESERVER, ["-w"], { env, clearEnv: true });
    },
  });
  const dll = join(cacheDir, "build", "bcryptprimitives.dll");
  const installed = join(prefix, "drive_c", "windows", "system32", "bcryptprimitives.dll");
  await runCachedStep({
    stampDir,
    name: "bcryptprimitives",
    key: await sha256Hex(await Deno.readFile(STAND_IN_SOURCE)),
    outputs: [installed],
    run: async () => {
      console.error("[wine] building the stand-in bcryptprimitives.dll with mingw ...");
      await Deno.mkdir(join(cacheDir, "build"), { recursive: true });
      // -s: without symbols it is 13 KB instead of 90.
      await runChecked("x86_64-w64-mingw32-gcc", [
        "-shared",
        "-O2",
        "-s",
        "-Wall",
        "-o",
        dll,
        STAND_IN_SOURCE,
        "-lbcrypt",
      ]);
      await Deno.copyFile(dll, installed);
    },
  });
  await startWineServer(env);
}

/**
 * Starts the prefix's wineserver for good (until `wineserver -k`), and
 * Wine's services (services.exe, plugplay.exe, ...) with no standard error.
 * Otherwise the first Windows program a test starts starts them, they
 * inherit its piped stderr, and a test reading the program's output to its
 * end waits until they exit: 3 s after the program when the server is not
 * persistent (and each program then starts a new server and services,
 * another second), never when it is.
 */
async function startWineServer(env: Record<string, string>): Promise<void> {
  // Exits 2 at once when the server runs already.
  await quietly(WINESERVER, ["-p"], env);
  // The first program of a server starts the services; when they run
  // already, wineboot has nothing to do.
  await quietly(WINE, ["wineboot"], env);
}

async function quietly(command: string, args: string[], env: Record<string, string>) {
  await new Deno.Command(command, {
    args,
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).output();
}
