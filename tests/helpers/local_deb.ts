/**
 * A small real Debian package for inventory tests: built with `dpkg-deb`
 * from a control file and one program (a copy of `/bin/sleep`), installed
 * with `dpkg -i` and removed with `dpkg -r`, as an administrator would.
 *
 * @module
 */
import { join } from "node:path";

export interface LocalDeb {
  name: string;
  version: string;
  /** The program it installs, e.g. `/usr/bin/mtest-tool-1a2b3c4d`. */
  program: string;
  file: string;
}

/** True where packages can be built and installed: dpkg present and running as root. */
export function canInstallDebs(): boolean {
  try {
    return Deno.uid() === 0 && Deno.statSync("/usr/bin/dpkg-deb").isFile;
  } catch {
    return false;
  }
}

export async function buildDeb(dir: string, name: string, version: string): Promise<LocalDeb> {
  const root = join(dir, `${name}-root`);
  const program = `/usr/bin/${name}`;
  await Deno.mkdir(join(root, "DEBIAN"), { recursive: true });
  await Deno.mkdir(join(root, "usr/bin"), { recursive: true });
  await Deno.writeTextFile(
    join(root, "DEBIAN/control"),
    [
      `Package: ${name}`,
      `Version: ${version}`,
      "Architecture: all",
      "Maintainer: Meter Tests <tests@meter.invalid>",
      "Description: a program for Meter's inventory tests",
      "",
    ].join("\n"),
  );
  await Deno.copyFile("/bin/sleep", join(root, program));
  await Deno.chmod(join(root, program), 0o755);
  const file = join(dir, `${name}_${version}_all.deb`);
  await run("dpkg-deb", ["--build", "--root-owner-group", root, file]);
  return { name, version, program, file };
}

export async function installDeb(deb: LocalDeb): Promise<void> {
  await dpkg(["-i", deb.file]);
}

export async function removeDeb(name: string): Promise<void> {
  await dpkg(["-r", name]);
}

/**
 * Runs dpkg, waiting while another test's dpkg holds its lock: dpkg fails at
 * once on a held lock instead of waiting, and the test files that install
 * packages run beside each other.
 */
export async function dpkg(args: string[]): Promise<string> {
  for (let attempt = 0;; attempt++) {
    try {
      return await run("dpkg", args);
    } catch (error) {
      if (attempt >= 600 || !/lock/i.test((error as Error).message)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** Installed packages as `dpkg-query` prints them: `name:arch` → version. */
export async function dpkgQueryInstalled(): Promise<Map<string, string>> {
  const text = await run("dpkg-query", [
    "-W",
    "-f=${db:Status-Status}\t${Package}:${Architecture}\t${Version}\n",
  ]);
  const installed = new Map<string, string>();
  for (const line of text.split("\n")) {
    const [status, name, version] = line.split("\t");
    if (status === "installed") installed.set(name, version);
  }
  return installed;
}

async function run(command: string, args: string[]): Promise<string> {
  const output = await new Deno.Command(command, {
    args,
    stdout: "piped",
    stderr: "piped",
    env: { DEBIAN_FRONTEND: "noninteractive" },
  }).output();
  const text = new TextDecoder().decode(output.stdout);
  if (!output.success) {
    throw new Error(`${command} ${args.join(" ")}: ${new TextDecoder().decode(output.stderr)}`);
  }
  return text;
}
