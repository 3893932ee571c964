/**
 * The Windows deno.exe for the tests under Wine, of the same version as the
 * Linux Deno the project uses (package.json's `deno` devDependency).
 *
 * It comes from the npm package `@deno/win32-x64`, which cannot be a
 * dependency: npm refuses to install an `os: win32` package on Linux, even
 * with `--os=win32` (that only picks optional dependencies). So the MSI's
 * build fetches it with `npm pack` (scripts/package/deno_runtime.ts), and
 * this copies it into the tests' cache. It runs as it is: the Wine prefix's
 * stand-in bcryptprimitives.dll makes it work under Wine 8.0
 * (tests/fixtures/windows/bcryptprimitives_stand_in.c).
 *
 * @module
 */
import { dirname, join } from "node:path";
import { runCachedStep } from "./cached_step.ts";
import { runChecked } from "./checked_command.ts";
import { WINE, wineEnvironment } from "./wine_prefix.ts";
import { projectDenoVersion } from "../../scripts/package/app_source.ts";
import { denoRuntime } from "../../scripts/package/deno_runtime.ts";

/** The deno.exe and Wine the prefix's workarounds were checked with. */
const CHECKED_WITH = "deno 2.9.6 under Wine 8.0";

export { projectDenoVersion };

/**
 * Puts deno.exe `version` at `<cacheDir>/deno/deno.exe` unless it is there,
 * and checks it runs in `prefix` (which must be prepared) and is that version.
 */
export async function prepareWindowsDeno(
  cacheDir: string,
  prefix: string,
  version: string,
): Promise<string> {
  const denoDir = join(cacheDir, "deno");
  const denoExe = join(denoDir, "deno.exe");
  await runCachedStep({
    stampDir: join(cacheDir, "stamps"),
    name: "deno",
    key: version,
    outputs: [denoExe],
    run: async () => {
      // The packages' fetch (scripts/package/deno_runtime.ts), for the version the project pins.
      if (version !== await projectDenoVersion()) throw new Error(`deno ${version} is not pinned`);
      await Deno.remove(denoDir, { recursive: true }).catch(() => {});
      await Deno.mkdir(denoDir, { recursive: true });
      await Deno.copyFile(await denoRuntime("win32"), denoExe);
      await checkWindowsDeno(denoExe, prefix, version);
    },
  });
  return denoExe;
}

/**
 * Runs JavaScript with the new deno.exe, which needs V8 to start: under Wine
 * 8.0 it does only thanks to the stand-in bcryptprimitives.dll's workarounds,
 * so a Deno that no longer imports that DLL, or a V8 that reserves memory
 * another way, fails here, once, with a message saying where to look.
 */
async function checkWindowsDeno(denoExe: string, prefix: string, version: string): Promise<void> {
  let printed: string;
  try {
    printed = await runChecked(WINE, [denoExe, "eval", "console.log(Deno.version.deno)"], {
      cwd: dirname(denoExe),
      env: wineEnvironment(prefix),
      clearEnv: true,
    });
  } catch (error) {
    throw new Error(
      `The Windows deno.exe ${version} does not run under Wine. The workarounds in ` +
        `tests/fixtures/windows/bcryptprimitives_stand_in.c were checked with ${CHECKED_WITH}; ` +
        `see its comment.\n${error}`,
    );
  }
  if (printed.trim() !== version) {
    throw new Error(`${denoExe} should be deno ${version}, but says it is ${printed}`);
  }
}
