/**
 * The Debian package: `dist/meter_<version>_amd64.deb`, built with
 * `dpkg-deb` from a staged tree.
 *
 * | path                               | what                                      |
 * | ---------------------------------- | ----------------------------------------- |
 * | `/usr/bin/meter`                   | the command (a wrapper, or the executable) |
 * | `/usr/lib/meter/deno`, `app/`      | the runtime, the source, production packages |
 * | `/lib/systemd/system/meter-*.service` | the agent's and the site's units      |
 * | `/etc/meter/agent.json`, `site.json` | settings (conffiles, commented)          |
 * | `/var/lib/meter/{agent,site}`      | data, made by `postinst`                  |
 *
 * With a single executable from `deno compile` (`compiled`), it replaces
 * the runtime and the source: `/usr/lib/meter/meter`, linked from
 * `/usr/bin/meter`.
 *
 * @module
 */
import { join } from "node:path";
import { run } from "./run.ts";

const TEMPLATES = new URL("../../packaging/linux/", import.meta.url).pathname;

export interface DebInput {
  version: string;
  /** The staged app (source and Linux production packages) and the Linux Deno. */
  app: string;
  deno: string;
  /** A single executable from `deno compile`, used instead of `app` and `deno`. */
  compiled?: string;
  /** Where the package is written. */
  outDir: string;
  /** A scratch folder for the package's tree. */
  workDir: string;
}

/** Builds the package and returns its path. */
export async function buildDeb(input: DebInput): Promise<string> {
  const root = join(input.workDir, "deb-root");
  await Deno.remove(root, { recursive: true }).catch(() => {});
  await placeProgram(root, input);
  await placeFiles(root);
  const installedKiB = await diskUsageKiB(root);
  await writeControl(root, input.version, installedKiB);
  await Deno.mkdir(input.outDir, { recursive: true });
  const deb = join(input.outDir, `meter_${input.version}_amd64.deb`);
  await run("dpkg-deb", ["--root-owner-group", "-Zxz", "--build", root, deb]);
  return deb;
}

/** The program: the compiled executable, or the runtime, the app and the wrapper. */
async function placeProgram(root: string, input: DebInput): Promise<void> {
  const lib = join(root, "usr/lib/meter");
  await Deno.mkdir(lib, { recursive: true });
  await Deno.mkdir(join(root, "usr/bin"), { recursive: true });
  if (input.compiled) {
    await Deno.copyFile(input.compiled, join(lib, "meter"));
    await Deno.chmod(join(lib, "meter"), 0o755);
    await Deno.symlink("../lib/meter/meter", join(root, "usr/bin/meter"));
    return;
  }
  await Deno.copyFile(input.deno, join(lib, "deno"));
  await Deno.chmod(join(lib, "deno"), 0o755);
  await run("cp", ["-a", input.app, join(lib, "app")]);
  await install(join(TEMPLATES, "meter"), join(root, "usr/bin/meter"), 0o755);
}

/** Units, settings, maintainer scripts and docs. */
async function placeFiles(root: string): Promise<void> {
  for (const unit of ["meter-agent.service", "meter-site.service"]) {
    await install(join(TEMPLATES, unit), join(root, "lib/systemd/system", unit), 0o644);
  }
  for (const config of ["agent.json", "site.json"]) {
    await install(join(TEMPLATES, config), join(root, "etc/meter", config), 0o644);
  }
  for (const script of ["postinst", "prerm", "postrm"]) {
    await install(join(TEMPLATES, script), join(root, "DEBIAN", script), 0o755);
  }
  await Deno.writeTextFile(
    join(root, "DEBIAN/conffiles"),
    "/etc/meter/agent.json\n/etc/meter/site.json\n",
  );
  const docs = join(root, "usr/share/doc/meter");
  for (const doc of ["install.md", "configuration.md", "backup.md"]) {
    const from = new URL(`../../docs/${doc}`, import.meta.url).pathname;
    if (await exists(from)) await install(from, join(docs, doc), 0o644);
  }
  await Deno.writeTextFile(join(docs, "copyright"), COPYRIGHT);
}

async function writeControl(root: string, version: string, installedKiB: number) {
  const control = [
    "Package: meter",
    `Version: ${version}`,
    "Architecture: amd64",
    "Maintainer: Meter developers <meter@meter.invalid>",
    `Installed-Size: ${installedKiB}`,
    // The runtime links glibc and libgcc; useradd makes the site's user.
    "Depends: libc6 (>= 2.31), libgcc-s1, passwd",
    "Section: admin",
    "Priority: optional",
    "Description: software metering: which programs people run, when and for how long",
    " Agents record the runs of the programs their site's rules name; sites",
    " collect, summarise and report that usage, in a hierarchy, synced with",
    " Automerge. Ships the agent and the site as systemd services",
    " (meter-agent, meter-site) and the meter command.",
    "",
  ].join("\n");
  await Deno.writeTextFile(join(root, "DEBIAN/control"), control);
}

const COPYRIGHT = `Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: meter
Files: *
License: MIT
Comment: the npm packages under /usr/lib/meter/app/node_modules keep their
 own licence files; the Deno runtime is MIT.
`;

async function install(from: string, to: string, mode: number): Promise<void> {
  await Deno.mkdir(join(to, ".."), { recursive: true });
  await Deno.copyFile(from, to);
  await Deno.chmod(to, mode);
}

async function diskUsageKiB(dir: string): Promise<number> {
  return Number((await run("du", ["-sk", "--apparent-size", dir])).split(/\s/)[0]);
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}
