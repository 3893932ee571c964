/**
 * The part of the project a package ships: the runnable source (`main.ts`,
 * its folders, `deno.json` and the import map), without tests, benchmarks,
 * docs, scripts or local data, and the production npm packages built for
 * the package's operating system.
 *
 * @module
 */
import { join } from "node:path";
import { run } from "./run.ts";

const ROOT = new URL("../..", import.meta.url).pathname;

/** What the runtime loads: the entry point, its configuration and the code's folders. */
export const SHIPPED = [
  "main.ts",
  "deno.json",
  "import_map.json",
  "package.json",
  "package-lock.json",
  "agent",
  "cli",
  "lib",
  "model",
  "site",
  "store",
  "sync",
] as const;

/** SQLite files a local run left behind: data, not source. */
const DATABASE_FILE = /\.db(-shm|-wal|-journal)?$/;

/** Copies the shipped source into `dest` (which must not exist yet). */
export async function copyAppSource(dest: string): Promise<void> {
  await Deno.mkdir(dest, { recursive: true });
  for (const name of SHIPPED) {
    await copyTree(join(ROOT, name), join(dest, name));
  }
}

async function copyTree(from: string, to: string): Promise<void> {
  const info = await Deno.stat(from);
  if (!info.isDirectory) {
    await Deno.copyFile(from, to);
    return;
  }
  await Deno.mkdir(to, { recursive: true });
  for await (const entry of Deno.readDir(from)) {
    if (DATABASE_FILE.test(entry.name) || entry.name.startsWith(".")) continue;
    await copyTree(join(from, entry.name), join(to, entry.name));
  }
}

/** The operating systems a package is built for, as npm names them. */
export type PackageOs = "linux" | "win32";

/**
 * Installs the production dependencies into `<appDir>/node_modules`, exactly
 * the lock's versions (`npm ci`), with the native builds (libSQL's,
 * cbor-extract's) for `os` on x64: `--os`/`--cpu` pick those among the
 * optional dependencies, so a Linux machine builds the Windows package too.
 * No vitest, msw, playwright or second Deno: `--omit=dev`.
 */
export async function installProductionModules(appDir: string, os: PackageOs): Promise<void> {
  await run("npm", [
    "ci",
    "--omit=dev",
    `--os=${os}`,
    "--cpu=x64",
    "--ignore-scripts",
    "--no-audit",
    "--no-fund",
  ], { cwd: appDir });
}

/** The Deno version the project pins (package.json's `deno` devDependency), e.g. `2.9.6`. */
export async function projectDenoVersion(): Promise<string> {
  const pkg = JSON.parse(await Deno.readTextFile(join(ROOT, "package.json")));
  const version = pkg.devDependencies?.deno;
  if (typeof version !== "string" || !/^\d+\.\d+\.\d+$/.test(version)) {
    throw new Error(`package.json: expected an exact devDependencies.deno, found ${version}`);
  }
  return version;
}
