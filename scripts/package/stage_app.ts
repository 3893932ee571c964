/**
 * Stages the app a package ships for one operating system: the source,
 * `model/version.ts` saying the package's version (so `meter --version`
 * and what agents report match the package), and the production npm
 * packages built for that system.
 *
 * @module
 */
import { join } from "node:path";
import { copyAppSource, installProductionModules, type PackageOs } from "./app_source.ts";

/** npm installs every libc's build of libSQL; the runtime shipped links glibc. */
const OTHER_LIBC = ["node_modules/@libsql/linux-x64-musl"];

/** Stages into `app` (made anew). */
export async function stageApp(app: string, os: PackageOs, version: string): Promise<void> {
  await Deno.remove(app, { recursive: true }).catch(() => {});
  await copyAppSource(app);
  await Deno.writeTextFile(
    join(app, "model/version.ts"),
    `/** Meter's version, reported by agents and sites. @module */\n` +
      `export const METER_VERSION = ${JSON.stringify(version)};\n`,
  );
  await installProductionModules(app, os);
  if (os === "linux") {
    for (const path of OTHER_LIBC) await Deno.remove(join(app, path), { recursive: true });
  }
}
