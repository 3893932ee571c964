/**
 * The project as the Windows deno.exe runs it under Wine: a copy of its
 * runnable source with its own node_modules holding the Windows builds of
 * the native npm packages (libSQL's, cbor-extract's). The worktree's
 * node_modules has the Linux ones only, and with `"nodeModulesDir":
 * "manual"` Deno takes npm packages from the node_modules beside deno.json,
 * so the Windows Deno needs a deno.json of its own beside the Windows ones.
 *
 * Scripts the tests run with the Windows Deno live in tests/fixtures/windows/
 * and are copied to the same place in the app: Deno resolves a module's npm
 * imports from the node_modules folders above the module itself (not above
 * deno.json, nor the working directory, nor `--config`), so a script run from
 * the worktree would load the worktree's Linux native modules.
 *
 * @module
 */
import { join } from "node:path";
import { runCachedStep, sha256Hex } from "./cached_step.ts";
import { installProductionModules } from "../../scripts/package/app_source.ts";

const ROOT = new URL("../..", import.meta.url).pathname;

/** What the Windows Deno does not need to run the project (tests run it from the worktree). */
const NOT_COPIED = new Set(["node_modules", "tests", "bench", "docs", "data", "dist"]);

/** Where the scripts for the Windows Deno are, in the project and in the app. */
export const WINDOWS_FIXTURES = "tests/fixtures/windows";

/** SQLite files a local run left behind (git ignores them too): data, not source. */
const DATABASE_FILE = /\.db(-shm|-wal)?$/;

/**
 * Installs the production dependencies' Windows builds into
 * `<appDir>/node_modules`, again only when package.json or package-lock.json changed.
 */
export async function prepareAppDependencies(cacheDir: string, appDir: string): Promise<void> {
  const pkg = await Deno.readFile(join(ROOT, "package.json"));
  const lock = await Deno.readFile(join(ROOT, "package-lock.json"));
  await runCachedStep({
    stampDir: join(cacheDir, "stamps"),
    name: "app-node-modules",
    key: `${await sha256Hex(pkg)} ${await sha256Hex(lock)}`,
    outputs: [join(appDir, "node_modules")],
    run: async () => {
      console.error(`[wine] installing the Windows npm packages into ${appDir} ...`);
      await Deno.mkdir(appDir, { recursive: true });
      await Deno.writeFile(join(appDir, "package.json"), pkg);
      await Deno.writeFile(join(appDir, "package-lock.json"), lock);
      await installProductionModules(appDir, "win32");
    },
  });
}

/**
 * Makes `appDir` hold the project's current runnable source, file by file:
 * changed files are replaced by a rename, so a Windows Deno that another
 * test file runs from `appDir` meanwhile never reads half a file, and files
 * gone from the project are removed. Leaves `appDir/node_modules` alone.
 */
export async function copyAppSource(appDir: string): Promise<void> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(ROOT)) {
    const skip = entry.name.startsWith(".") || NOT_COPIED.has(entry.name) ||
      DATABASE_FILE.test(entry.name);
    if (!skip) names.push(entry.name);
  }
  await Deno.mkdir(appDir, { recursive: true });
  await Promise.all(names.map((name) => syncEntry(join(ROOT, name), join(appDir, name))));
  await removeOthers(appDir, new Set([...names, "node_modules", "tests"]));
  // Of tests/, only the scripts for the Windows Deno.
  await Deno.mkdir(join(appDir, WINDOWS_FIXTURES), { recursive: true });
  await syncEntry(join(ROOT, WINDOWS_FIXTURES), join(appDir, WINDOWS_FIXTURES));
  await removeOthers(join(appDir, "tests"), new Set(["fixtures"]));
  await removeOthers(join(appDir, "tests", "fixtures"), new Set(["windows"]));
}

async function syncEntry(from: string, to: string): Promise<void> {
  const info = await Deno.stat(from);
  const existing = await Deno.lstat(to).catch(() => undefined);
  if (info.isDirectory) {
    if (existing && !existing.isDirectory) await Deno.remove(to);
    await Deno.mkdir(to, { recursive: true });
    const names = new Set<string>();
    for await (const entry of Deno.readDir(from)) {
      if (!DATABASE_FILE.test(entry.name)) names.add(entry.name);
    }
    await Promise.all([...names].map((name) => syncEntry(join(from, name), join(to, name))));
    await removeOthers(to, names);
    return;
  }
  if (existing?.isDirectory) await Deno.remove(to, { recursive: true });
  const content = await Deno.readFile(from);
  if (existing?.isFile && existing.size === content.length) {
    const old = await Deno.readFile(to);
    if (old.every((byte, i) => byte === content[i])) return;
  }
  const temporary = `${to}.${Deno.pid}.tmp`;
  await Deno.writeFile(temporary, content);
  await Deno.rename(temporary, to);
}

async function removeOthers(dir: string, keep: Set<string>): Promise<void> {
  for await (const entry of Deno.readDir(dir)) {
    if (!keep.has(entry.name)) await Deno.remove(join(dir, entry.name), { recursive: true });
  }
}
