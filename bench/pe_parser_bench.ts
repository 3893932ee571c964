/**
 * The PE version-resource parser's speed: files per second of
 * `readVersionResource` over every file in Wine's x86_64-windows folder
 * (about 690 PE32+ programs and libraries), against files per second of
 * reading the same files whole with `Deno.readFile`, in the same run.
 *
 * Both passes run over a warm page cache (one untimed pass first), so the
 * figures compare the work of each, not the disk; the parser reads only
 * headers, the resource directory and the version data, so it should beat
 * the baseline the more the larger the files are.
 *
 * `deno run -A bench/pe_parser_bench.ts [--dir D] [--rounds N]` runs it alone.
 *
 * @module
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { readVersionResource } from "../lib/pe_version_resource.ts";
import { type BenchFigure, progress, renderFigures, round } from "./bench_figure.ts";

const WINE_DIR = "/usr/lib/x86_64-linux-gnu/wine/x86_64-windows";

export async function benchPeParser(
  options: { dir?: string; rounds?: number } = {},
): Promise<BenchFigure[]> {
  const dir = options.dir ?? WINE_DIR;
  const rounds = options.rounds ?? 5;
  const paths = await filesIn(dir);
  if (paths === null) {
    progress(`pe parser: skipped, ${dir} is missing (Debian's wine installs it)`);
    return [];
  }
  progress(`pe parser: ${paths.length} files in ${dir}, ${rounds} rounds`);
  let bytes = 0;
  let withVersion = 0;
  for (const path of paths) {
    bytes += (await Deno.readFile(path)).length; // warms the page cache
    if (await readVersionResource(path)) withVersion++;
  }
  const parseMs = await timeRounds(rounds, paths, (path) => readVersionResource(path));
  const readMs = await timeRounds(rounds, paths, (path) => Deno.readFile(path));
  const rate = (ms: number) => round(paths.length * rounds / (ms / 1000), 0);
  return [
    {
      name: `PE version resources read (readVersionResource), ${paths.length} Wine files`,
      value: rate(parseMs),
      unit: "files/s",
      baseline: { name: "Deno.readFile of each whole file, files/s", value: rate(readMs) },
    },
    {
      name: "of those files, with a version resource",
      value: withVersion,
      unit: "files",
      baseline: { name: "mean file size, KiB", value: round(bytes / paths.length / 1024, 1) },
    },
  ];
}

/** The folder's regular files, sorted; null when it does not exist. */
async function filesIn(dir: string): Promise<string[] | null> {
  const paths: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isFile) paths.push(join(dir, entry.name));
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
  return paths.sort();
}

async function timeRounds(
  rounds: number,
  paths: string[],
  work: (path: string) => Promise<unknown>,
): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < rounds; i++) for (const path of paths) await work(path);
  return performance.now() - started;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { dir: { type: "string" }, rounds: { type: "string" } },
  });
  const rounds = values.rounds ? Number(values.rounds) : undefined;
  console.log("\n" + renderFigures(await benchPeParser({ dir: values.dir, rounds })));
}
