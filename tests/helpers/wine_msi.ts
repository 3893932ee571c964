/**
 * The Windows installer under Wine, for tests/package_msi_wine.test.ts:
 *
 * - MSIs built by scripts/package/msi.ts, kept between runs in
 *   `<wine cache>/msi-test/msi/` and built again only when what goes into
 *   them changed (the shipped source, the packaging, the npm lock);
 * - a Wine prefix of their own, `<wine cache>/msi-test/prefix/`, so that
 *   installing and removing a service never touches the prefix the other
 *   Windows tests share. It is the same kind of prefix (tests/helpers/
 *   wine_prefix.ts), with the stand-in bcryptprimitives.dll the Windows Deno
 *   needs under Wine 8.0: test setup, which the MSI does not carry.
 *
 * A test holds the folder's lock from start to end (`holdMsiTestLock`): one
 * install at a time.
 *
 * @module
 */
import { join } from "node:path";
import { SHIPPED } from "../../scripts/package/app_source.ts";
import { buildMsi } from "../../scripts/package/msi.ts";
import { runCachedStep, sha256Hex } from "./cached_step.ts";
import type { WineEnvironment } from "./wine.ts";
import { wineCacheDir } from "./wine.ts";
import { projectDenoVersion } from "./wine_deno.ts";
import { killWineServer, preparePrefix, WINE, wineEnvironment } from "./wine_prefix.ts";

const ROOT = new URL("../..", import.meta.url).pathname;

/** What goes into the MSI besides the shipped source. */
const PACKAGING_INPUTS = ["packaging/windows", "scripts/package"];

/** The test's folder in the Wine cache. */
export async function msiTestDir(): Promise<string> {
  return join(wineCacheDir(await projectDenoVersion()), "msi-test");
}

/** Takes the folder's lock (waiting for another run to finish); close the file to release it. */
export async function holdMsiTestLock(dir: string): Promise<Deno.FsFile> {
  await Deno.mkdir(dir, { recursive: true });
  // Not `lock`: the Wine helpers take that one for their own steps in this folder.
  const file = await Deno.open(join(dir, "test.lock"), { create: true, write: true });
  await file.lock(true);
  return file;
}

/** The MSI of `version`, built unless the one in the cache was built from the same inputs. */
export async function cachedMsi(dir: string, version: string): Promise<string> {
  const msi = join(dir, "msi", `meter-${version}-x64.msi`);
  const built = await runCachedStep({
    stampDir: join(dir, "stamps"),
    name: `msi-${version}`,
    key: await inputsKey(),
    outputs: [msi],
    run: async () => {
      const started = Date.now();
      await buildMsi({ version, outDir: join(dir, "msi"), workDir: join(dir, "msi-work") });
      console.error(`[msi] built ${msi} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    },
  });
  if (!built) console.error(`[msi] ${msi} is up to date`);
  return msi;
}

/** A hash of every input file's path and content. */
async function inputsKey(): Promise<string> {
  const lines: string[] = [`deno ${await projectDenoVersion()}`];
  const walk = async (path: string) => {
    const info = await Deno.stat(join(ROOT, path));
    if (info.isDirectory) {
      const names: string[] = [];
      for await (const entry of Deno.readDir(join(ROOT, path))) names.push(entry.name);
      for (const name of names.sort()) {
        if (!name.startsWith(".") && !/\.db(-shm|-wal|-journal)?$/.test(name)) {
          await walk(`${path}/${name}`);
        }
      }
    } else {
      lines.push(`${path} ${await sha256Hex(await Deno.readFile(join(ROOT, path)))}`);
    }
  };
  for (const path of [...SHIPPED, ...PACKAGING_INPUTS]) await walk(path);
  return await sha256Hex(lines.join("\n"));
}

/**
 * The test's own Wine prefix, as an environment the Wine helpers take. A run
 * that ended half way (its marker, `installing`, still there) may have left
 * the product or its service behind: the prefix is then made anew (10 s).
 */
export async function prepareMsiPrefix(dir: string): Promise<WineEnvironment> {
  const prefix = join(dir, "prefix");
  const env = wineEnvironment(prefix);
  if (await exists(installedMarker(dir))) {
    console.error("[msi] an earlier run left the product installed; making a new prefix");
    await killWineServer(env);
    await Deno.remove(join(prefix, "system.reg")).catch(() => {});
    await Deno.remove(installedMarker(dir));
  }
  await preparePrefix(dir, prefix);
  return {
    wine: WINE,
    prefix,
    denoExe: "",
    appDir: dir,
    cacheDir: dir,
    denoVersion: await projectDenoVersion(),
    env,
  };
}

/** Present from an install until the uninstall succeeded. */
export function installedMarker(dir: string): string {
  return join(dir, "installing");
}

/** Ends the prefix's Wine processes and server: the prefix is this test's alone. */
export async function stopMsiPrefix(envt: WineEnvironment): Promise<void> {
  await killWineServer(envt.env);
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}
