/**
 * The Windows installer: `dist/meter-<version>-x64.msi`, built on Linux with
 * wixl (msitools) and mingw-w64. It installs the agent as the Windows
 * service MeterAgent; docs/windows-install.md says what goes where.
 *
 * The steps: stage the shipped source with the Windows builds of its npm
 * packages, the Windows deno.exe and the service host
 * (packaging/windows/meter_service.c, compiled here); list the app's files
 * as MSI components with wixl-heat; then wixl joins that list with
 * packaging/windows/meter.wxs.
 *
 * @module
 */
import { join, resolve } from "node:path";
import { stageApp } from "./stage_app.ts";
import { denoRuntime } from "./deno_runtime.ts";
import { run } from "./run.ts";

const ROOT = new URL("../..", import.meta.url).pathname;
const PACKAGING = join(ROOT, "packaging", "windows");

/** The programs the build runs beyond npm and tar, with the Debian package of each. */
export const MSI_TOOLS = {
  wixl: "wixl",
  "wixl-heat": "wixl",
  "x86_64-w64-mingw32-gcc": "gcc-mingw-w64-x86-64-win32",
} as const;

export interface MsiOptions {
  /** The product version, `major.minor.build` (numbers, as MSI wants them), e.g. `0.4.0`. */
  version: string;
  /** Where the MSI goes, e.g. `dist`; made if missing. */
  outDir: string;
  /** A folder for the staged files, emptied first; a temporary folder, removed after, if not given. */
  workDir?: string;
  /** Progress lines; `console.error` unless given. */
  log?: (line: string) => void;
}

/** Builds the MSI and returns its path. Takes a minute or so, most of it npm and compression. */
export async function buildMsi(options: MsiOptions): Promise<string> {
  checkVersion(options.version);
  const log = options.log ?? ((line: string) => console.error(line));
  const workDir = resolve(options.workDir ?? await Deno.makeTempDir({ prefix: "meter-msi-" }));
  const started = Date.now();
  const step = (what: string) =>
    log(`[msi] ${what} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  try {
    const stage = join(workDir, "stage");
    await Deno.remove(stage, { recursive: true }).catch(() => {});
    step("staging the source and its Windows npm packages (npm ci --os=win32)");
    await stageApp(join(stage, "app"), "win32", options.version);
    step("getting the Windows deno.exe");
    await Deno.copyFile(await denoRuntime("win32"), join(stage, "deno.exe"));
    step("compiling the service host with mingw-w64");
    await compileServiceHost(join(stage, "meter_service.exe"));
    step("listing the app's files with wixl-heat");
    const appFiles = join(workDir, "app_files.wxs");
    await Deno.writeTextFile(appFiles, await harvest(stage, "app"));
    await Deno.mkdir(options.outDir, { recursive: true });
    const msi = resolve(options.outDir, `meter-${options.version}-x64.msi`);
    step(`writing ${msi} with wixl (compressing about 130 MB)`);
    await run("wixl", [
      "--arch",
      "x64",
      "--define",
      `Version=${options.version}`,
      "--define",
      // Relative: wixl looks sources up in its include path, "." first.
      "StageDir=stage",
      "--define",
      "Win64=yes",
      "--output",
      msi,
      join(PACKAGING, "meter.wxs"),
      appFiles,
    ], { cwd: workDir });
    const size = (await Deno.stat(msi)).size;
    step(`done: ${msi}, ${(size / 1024 / 1024).toFixed(1)} MB`);
    return msi;
  } finally {
    if (options.workDir === undefined) await Deno.remove(workDir, { recursive: true });
  }
}

/** MSI's ProductVersion: three numbers (a fourth is ignored by upgrades), at most 255.255.65535. */
function checkVersion(version: string): void {
  const parts = /^(\d+)\.(\d+)\.(\d+)$/.exec(version);
  if (!parts || Number(parts[1]) > 255 || Number(parts[2]) > 255 || Number(parts[3]) > 65535) {
    throw new Error(
      `an MSI needs a version of three numbers up to 255.255.65535, like 0.4.0; got ${version}`,
    );
  }
}

/**
 * The service host, statically linked (only Windows' own DLLs at run
 * time), stripped, and a console program: it allocates no window.
 */
export async function compileServiceHost(exe: string): Promise<void> {
  await run("x86_64-w64-mingw32-gcc", [
    "-O2",
    "-s",
    "-Wall",
    "-Wextra",
    "-municode",
    "-static",
    "-o",
    exe,
    join(PACKAGING, "meter_service.c"),
    "-ladvapi32",
    "-lshell32",
    "-lole32",
    "-luuid",
  ]);
}

/**
 * The WiX fragment listing every file under `<stage>/<folder>` as a
 * component of the group AppFiles, under INSTALLDIR. wixl-heat reads the
 * paths on its stdin, sorted so that each folder's files come together;
 * only regular files (npm's `.bin` links are not needed on Windows).
 */
async function harvest(stage: string, folder: string): Promise<string> {
  const files: string[] = [];
  const walk = async (dir: string) => {
    for await (const entry of Deno.readDir(dir)) {
      const path = join(dir, entry.name);
      if (entry.isDirectory) await walk(path);
      else if (entry.isFile) files.push(path);
    }
  };
  await walk(join(stage, folder));
  files.sort();
  const child = new Deno.Command("wixl-heat", {
    args: [
      "--prefix",
      `${stage}/`,
      "--directory-ref",
      "INSTALLDIR",
      "--component-group",
      "AppFiles",
      "--var",
      "var.StageDir",
      "--win64",
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // Written while the output is read: heat writes as it reads, and would
  // block on a full stdout pipe while the list still waits to be written.
  const writing = (async () => {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(files.join("\n") + "\n"));
    await writer.close();
  })();
  const [output] = await Promise.all([child.output(), writing]);
  const text = new TextDecoder().decode(output.stdout);
  if (!output.success) {
    throw new Error(`wixl-heat failed: ${new TextDecoder().decode(output.stderr)}`);
  }
  const count = (text.match(/<Component /g) ?? []).length;
  if (count !== files.length) {
    throw new Error(
      `wixl-heat listed ${count} of the ${files.length} files under ${stage}`,
    );
  }
  return text;
}
