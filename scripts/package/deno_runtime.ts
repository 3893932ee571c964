/**
 * The Deno runtime a package ships: the executable from the npm package
 * `@deno/linux-x64-glibc` or `@deno/win32-x64`, of the version the project
 * pins. Linux's is already in node_modules (the `deno` devDependency brings
 * it); Windows' cannot be installed on Linux (npm refuses an `os: win32`
 * package), so `npm pack` fetches its tarball, checked against the
 * registry's integrity, into a cache, and tar takes the executable out.
 *
 * @module
 */
import { join } from "node:path";
import { type PackageOs, projectDenoVersion } from "./app_source.ts";
import { run } from "./run.ts";

const ROOT = new URL("../..", import.meta.url).pathname;

const NPM_PACKAGE: Record<PackageOs, { name: string; file: string }> = {
  linux: { name: "@deno/linux-x64-glibc", file: "deno" },
  win32: { name: "@deno/win32-x64", file: "deno.exe" },
};

/** The cache for fetched runtimes: `$XDG_CACHE_HOME/meter-package` or `~/.cache/meter-package`. */
export function packageCache(): string {
  const base = Deno.env.get("XDG_CACHE_HOME") ?? join(Deno.env.get("HOME") ?? "/tmp", ".cache");
  return join(base, "meter-package");
}

/** The path of the Deno executable for `os`, fetched first if need be. */
export async function denoRuntime(os: PackageOs): Promise<string> {
  const version = await projectDenoVersion();
  const { name, file } = NPM_PACKAGE[os];
  const installed = join(ROOT, "node_modules", name);
  if (await versionOf(installed) === version) return join(installed, file);
  const dir = join(packageCache(), `${name.replace("/", "+")}-${version}`);
  if (await versionOf(dir) === version) return join(dir, file);
  console.error(`fetching ${name}@${version} with npm ...`);
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  await Deno.mkdir(dir, { recursive: true });
  const packed = JSON.parse(
    await run("npm", ["pack", "--json", `${name}@${version}`], { cwd: dir }),
  );
  const tarball = join(dir, packed[0].filename);
  await run("tar", ["-xzf", tarball, "-C", dir, "--strip-components=1"]);
  await Deno.remove(tarball);
  return join(dir, file);
}

async function versionOf(packageDir: string): Promise<string | undefined> {
  try {
    return JSON.parse(await Deno.readTextFile(join(packageDir, "package.json"))).version;
  } catch {
    return undefined;
  }
}
