/**
 * A Windows test environment under Wine, for running the project's agent
 * (or any of its code) with the Windows deno.exe on a Linux machine.
 *
 * `prepareWine()` makes, and keeps between runs in
 * `${XDG_CACHE_HOME:-~/.cache}/meter-tests/wine-<deno version>/`:
 * - `prefix/`: the Wine prefix, with a stand-in bcryptprimitives.dll
 *   (tests/helpers/wine_prefix.ts);
 * - `deno/deno.exe`: the Windows Deno of the project's version (wine_deno.ts);
 * - `app/`: the project's source with the Windows builds of its npm packages
 *   (wine_app.ts), where the Windows Deno runs;
 * each redone only when its inputs changed, except the source, copied anew
 * on every call. The first call takes a minute or so; later ones a second or two.
 * A lock keeps two test files from building it at once.
 *
 * To run a script under the Windows Deno from a test:
 *
 * ```ts
 * const wine = await prepareWine(); // in a beforeAll with a long timeout
 * // a script in tests/fixtures/windows/, which imports npm packages or project modules
 * const script = windowsFixture(wine, "libsql_smoke.ts");
 * const output = await runWindowsDeno(wine, ["run", "-A", script]).output();
 * ...
 * await stopWine(wine); // in afterAll
 * ```
 *
 * @module
 */
import { join, resolve } from "node:path";
import { withFileLock } from "./file_lock.ts";
import { copyAppSource, prepareAppDependencies, WINDOWS_FIXTURES } from "./wine_app.ts";
import { prepareWindowsDeno, projectDenoVersion } from "./wine_deno.ts";
import { killWineServer, preparePrefix, WINE, wineEnvironment } from "./wine_prefix.ts";

export interface WineEnvironment {
  /** The wine program, `/usr/bin/wine`. */
  wine: string;
  /** The Wine prefix (WINEPREFIX). */
  prefix: string;
  /** The Windows deno.exe, as a Linux path. */
  denoExe: string;
  /** The project's source and Windows node_modules, as a Linux path; where the Windows Deno runs. */
  appDir: string;
  /** This environment's cache folder, for more things built for it (e.g. `buildMeteredTool`). */
  cacheDir: string;
  /** The Deno version, e.g. `2.9.6`. */
  denoVersion: string;
  /** The whole environment to run wine with (WINEPREFIX, WINEDEBUG, ...). */
  env: Record<string, string>;
}

/** The registration of each environment handed out, for `stopWine`. */
const registrations = new WeakMap<WineEnvironment, string>();

/** The cache folder of the Wine environment for `denoVersion`. */
export function wineCacheDir(denoVersion: string): string {
  const cache = Deno.env.get("XDG_CACHE_HOME") || join(Deno.env.get("HOME") ?? "/root", ".cache");
  return join(cache, "meter-tests", `wine-${denoVersion}`);
}

/** Makes the Windows test environment, or brings the cached one up to date. */
export async function prepareWine(): Promise<WineEnvironment> {
  const denoVersion = await projectDenoVersion();
  const cacheDir = wineCacheDir(denoVersion);
  const prefix = join(cacheDir, "prefix");
  const appDir = join(cacheDir, "app");
  return await withFileLock(join(cacheDir, "lock"), async () => {
    const started = Date.now();
    await preparePrefix(cacheDir, prefix);
    const denoExe = await prepareWindowsDeno(cacheDir, prefix, denoVersion);
    await prepareAppDependencies(cacheDir, appDir);
    await copyAppSource(appDir);
    const environment: WineEnvironment = {
      wine: WINE,
      prefix,
      denoExe,
      appDir,
      cacheDir,
      denoVersion,
      env: wineEnvironment(prefix),
    };
    registrations.set(environment, await register(cacheDir));
    const seconds = (Date.now() - started) / 1000;
    if (seconds > 5) console.error(`[wine] the Windows test environment took ${seconds} s`);
    return environment;
  });
}

/** `/tmp/x/a.ts` → `Z:\tmp\x\a.ts`: Wine shows the Linux root as drive Z:. */
export function windowsPath(linuxPath: string): string {
  return `Z:${resolve(linuxPath).replaceAll("/", "\\")}`;
}

/**
 * The Windows path of the app's copy of `tests/fixtures/windows/<name>`: run
 * scripts for the Windows Deno from there, not from the worktree, which
 * would make Deno load the Linux native modules of the worktree's node_modules.
 */
export function windowsFixture(envt: WineEnvironment, name: string): string {
  return windowsPath(join(envt.appDir, WINDOWS_FIXTURES, name));
}

export interface WindowsRunOptions {
  /** The working directory, as a Linux path. */
  cwd?: string;
  /** More environment variables; the Windows program sees them too. */
  env?: Record<string, string>;
  stdin?: "piped" | "inherit" | "null";
  stdout?: "piped" | "inherit" | "null";
  stderr?: "piped" | "inherit" | "null";
}

/**
 * Starts a Windows program under Wine: `program` is a Linux path, `args`
 * go to it as they are (give paths in it `windowsPath` form). By default
 * stdin is closed and stdout and stderr are piped. Killing the child kills
 * the Windows program: wine becomes it.
 */
export function runWindowsProgram(
  envt: WineEnvironment,
  program: string,
  args: string[],
  options: WindowsRunOptions = {},
): Deno.ChildProcess {
  return new Deno.Command(envt.wine, {
    args: [program, ...args],
    cwd: options.cwd ?? envt.appDir,
    env: { ...envt.env, ...options.env },
    clearEnv: true,
    stdin: options.stdin ?? "null",
    stdout: options.stdout ?? "piped",
    stderr: options.stderr ?? "piped",
  }).spawn();
}

/**
 * Starts the Windows deno.exe with `args` in `appDir` (unless `options.cwd`
 * says otherwise), where the project's deno.json and import map make bare
 * specifiers resolve to the Windows npm packages in `appDir/node_modules`.
 */
export function runWindowsDeno(
  envt: WineEnvironment,
  args: string[],
  options: WindowsRunOptions = {},
): Deno.ChildProcess {
  return runWindowsProgram(envt, envt.denoExe, args, options);
}

/**
 * Ends this environment: once no other process (another test file) uses the
 * prefix, `wineserver -k` stops the prefix's server (which `prepareWine`
 * started to stay) and kills what is left in it, such as a program a failed
 * test never stopped. Killing earlier would kill the other file's programs.
 */
export async function stopWine(envt: WineEnvironment): Promise<void> {
  const registration = registrations.get(envt);
  if (registration === undefined) return;
  registrations.delete(envt);
  await withFileLock(join(envt.cacheDir, "lock"), async () => {
    await Deno.remove(registration).catch(() => {});
    if (await otherUsers(envt.cacheDir) > 0) return;
    await killWineServer(envt.env);
  });
}

/** Records that this process uses the environment, in `users/<pid>.<id>`. */
async function register(cacheDir: string): Promise<string> {
  const users = join(cacheDir, "users");
  await Deno.mkdir(users, { recursive: true });
  const file = join(users, `${Deno.pid}.${crypto.randomUUID()}`);
  await Deno.writeTextFile(file, "");
  return file;
}

/** How many registrations remain of live processes; forgets those of processes that died. */
async function otherUsers(cacheDir: string): Promise<number> {
  const users = join(cacheDir, "users");
  let count = 0;
  for await (const entry of Deno.readDir(users)) {
    const pid = entry.name.split(".")[0];
    const alive = await Deno.stat(`/proc/${pid}`).then(() => true, () => false);
    if (alive) count++;
    else await Deno.remove(join(users, entry.name)).catch(() => {});
  }
  return count;
}
