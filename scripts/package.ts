/**
 * `deno task package`: builds Meter's packages into `dist/`: the Debian
 * package (`meter_<version>_amd64.deb`) and the Windows installer
 * (`meter-<version>-x64.msi`). See docs/install.md.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { join, resolve } from "node:path";
import { METER_VERSION } from "../model/version.ts";
import { denoRuntime } from "./package/deno_runtime.ts";
import { stageApp } from "./package/stage_app.ts";
import { compileMeter } from "./package/compile.ts";
import { buildDeb } from "./package/deb.ts";

const USAGE = `Usage: deno task package [options]

Builds Meter's packages into dist/ (see docs/install.md):
  meter_<version>_amd64.deb   Debian/Ubuntu: the meter command, systemd units
                              meter-agent and meter-site, /etc/meter settings
  meter-<version>-x64.msi     Windows: the agent as the service MeterAgent

The .deb holds the single executable from 'deno compile' when Deno's compile
base can be had (downloaded, or the file DENORT_BIN names); otherwise the Deno
runtime from the npm package @deno/linux-x64-glibc and Meter's source.

Options:
  --version V     the packages' version (default ${METER_VERSION}, model/version.ts)
  --only KIND     deb or msi (default both)
  --out DIR       where the packages are written (default dist)
  --no-compile    ship the runtime and the source even where compiling works
  -h, --help      show this help`;

const VERSION = /^[0-9][0-9A-Za-z.+~-]*$/;

async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      version: { type: "string", default: METER_VERSION },
      only: { type: "string" },
      out: { type: "string", default: "dist" },
      "no-compile": { type: "boolean", default: false },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (!VERSION.test(values.version)) {
    console.error(`package: --version ${values.version} is not a package version, e.g. 0.2.0`);
    return 2;
  }
  if (values.only !== undefined && !["deb", "msi"].includes(values.only)) {
    console.error(`package: --only is deb or msi, not ${values.only}`);
    return 2;
  }
  const outDir = resolve(values.out);
  const workDir = join(outDir, ".build");
  if (values.only !== "msi") {
    const deb = await debPackage(values.version, outDir, workDir, !values["no-compile"]);
    console.log(deb);
  }
  if (values.only !== "deb") {
    const { buildMsi } = await import("./package/msi.ts");
    console.log(await buildMsi({ version: values.version, outDir, workDir: join(workDir, "msi") }));
  }
  return 0;
}

async function debPackage(version: string, outDir: string, workDir: string, compile: boolean) {
  step(`staging Meter ${version} for Linux (npm ci --omit=dev) ...`);
  const app = join(workDir, "app-linux");
  await stageApp(app, "linux", version);
  const deno = await denoRuntime("linux");
  let compiled: string | undefined;
  if (compile) {
    step("compiling a single executable (deno compile) ...");
    const result = await compileMeter(deno, app, workDir);
    if ("executable" in result) compiled = result.executable;
    else step(`cannot compile (${result.reason}): shipping the Deno runtime and the source`);
  }
  step("building the .deb (dpkg-deb, xz) ...");
  return await buildDeb({ version, app, deno, compiled, outDir, workDir });
}

function step(message: string): void {
  console.error(`package: ${message}`);
}

if (import.meta.main) Deno.exit(await main(Deno.args));
