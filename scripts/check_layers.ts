/**
 * The dependency check that `deno task check` runs: every import in product
 * code must point down the layers, or across within one, and product code
 * must hold no import cycle, between files or between the folders of a layer.
 * It fails (exit 1) naming each forbidden import and each cycle, so a change
 * that bends the shape is stopped before review.
 *
 * The layers, from the bottom:
 *
 * | folder   | may import                                   |
 * | -------- | -------------------------------------------- |
 * | `lib/`   | `lib/`                                       |
 * | `model/` | `lib/`, `model/`                             |
 * | `store/` | `lib/`, `model/`, `store/`                   |
 * | `sync/`  | the above, `sync/`                           |
 * | `agent/` | the above, `agent/` (never `site/`)          |
 * | `site/`  | the above, `site/` (never `agent/`)          |
 * | `cli/`   | the above, `cli/`                            |
 * | `bench/` | the above, `bench/`, and the tests' helpers   |
 *
 * and `sync/`, `agent/` and `site/` are entered from outside only through
 * their public surface, `mod.ts` (see `SURFACES`): their other files are
 * their own business. Tests may import anything: they test the parts.
 *
 * Usage: `deno run --allow-read scripts/check_layers.ts [ROOT]`
 *
 * @module
 */
import { dirname, join, normalize } from "node:path";

/** What each top folder may import, besides itself. */
const ALLOWED: Record<string, readonly string[]> = {
  lib: [],
  model: ["lib"],
  store: ["lib", "model"],
  sync: ["lib", "model", "store"],
  agent: ["lib", "model", "store", "sync"],
  site: ["lib", "model", "store", "sync"],
  cli: ["lib", "model", "store", "sync", "agent", "site"],
  // The Windows benchmark runs in the tests' Windows environment under Wine.
  bench: ["lib", "model", "store", "sync", "agent", "site", "tests"],
  scripts: ["lib", "model", "store", "sync", "agent", "site"],
  ".": ["lib", "model", "store", "sync", "agent", "site", "cli"],
};

/**
 * Folders entered from outside only through their public surface: `mod.ts`,
 * and for the site two lighter ones: the reports' catalog, which
 * `meter report --help` reads without permissions (the whole site loads
 * libSQL), and the query process's entry, which a child process loads alone
 * (through the whole site it would start 220 ms later and take 30 MiB more
 * per query process).
 */
const SURFACES: Record<string, readonly string[]> = {
  sync: ["sync/mod.ts"],
  agent: ["agent/mod.ts"],
  site: ["site/mod.ts", "site/reports/mod.ts", "site/query/query_process.ts"],
};

const SPECIFIER = /(?:from|import)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g;

/** Product source files under `root`, relative to it. */
export function productFiles(root: string): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of Deno.readDirSync(join(root, dir))) {
      const path = dir === "." ? entry.name : `${dir}/${entry.name}`;
      if (entry.isDirectory) {
        if (!entry.name.startsWith(".") && entry.name !== "node_modules" && path !== "tests") {
          walk(path);
        }
      } else if (/\.tsx?$/.test(entry.name) && !/\.test\.tsx?$/.test(entry.name)) {
        files.push(path);
      }
    }
  };
  walk(".");
  return files.sort();
}

/** The project files a file imports, relative to the root. */
export function importsOf(root: string, file: string): string[] {
  const text = Deno.readTextFileSync(join(root, file));
  return [...text.matchAll(SPECIFIER)].map((m) => normalize(join(dirname(file), m[1])));
}

function topOf(file: string): string {
  return file.includes("/") ? file.slice(0, file.indexOf("/")) : ".";
}

/** Why `from` may not import `to`, or `undefined` if it may. */
export function forbiddenImport(from: string, to: string): string | undefined {
  const [fromTop, toTop] = [topOf(from), topOf(to)];
  if (fromTop === toTop) return undefined;
  if (!(ALLOWED[fromTop] ?? []).includes(toTop)) {
    return `${fromTop}/ may not import ${toTop}/`;
  }
  const surfaces = SURFACES[toTop];
  if (surfaces && !surfaces.includes(to)) {
    return `${toTop}/ is entered through ${surfaces.join(" or ")}`;
  }
  return undefined;
}

/** Import cycles among `graph`'s files (Tarjan's strongly connected components). */
export function cyclesOf(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (file: string) => {
    index.set(file, next);
    low.set(file, next++);
    stack.push(file);
    onStack.add(file);
    for (const to of graph.get(file) ?? []) {
      if (!graph.has(to)) continue;
      if (!index.has(to)) {
        visit(to);
        low.set(file, Math.min(low.get(file)!, low.get(to)!));
      } else if (onStack.has(to)) {
        low.set(file, Math.min(low.get(file)!, index.get(to)!));
      }
    }
    if (low.get(file) !== index.get(file)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== file);
    if (component.length > 1) cycles.push(component.sort());
  };
  for (const file of graph.keys()) if (!index.has(file)) visit(file);
  return cycles;
}

/** Every problem found under `root`, one line each. */
export function checkLayers(root: string): string[] {
  const graph = new Map<string, string[]>();
  const problems: string[] = [];
  for (const file of productFiles(root)) {
    const imports = importsOf(root, file);
    graph.set(file, imports);
    for (const to of imports) {
      const why = forbiddenImport(file, to);
      if (why) problems.push(`${file} imports ${to}: ${why}`);
    }
  }
  for (const cycle of cyclesOf(graph)) problems.push(`import cycle: ${cycle.join(" <-> ")}`);
  for (const cycle of cyclesOf(folderGraph(graph))) {
    problems.push(`folder cycle: ${cycle.join(" <-> ")}`);
  }
  return problems;
}

/**
 * The imports between the sub-folders of each layer (`site/reports` ->
 * `site/summaries`): folders that import each other are one concept in
 * two places. Files at a layer's root (its wiring and public surface) are
 * left out: they stand above its folders.
 */
export function folderGraph(graph: Map<string, string[]>): Map<string, string[]> {
  const folderOf = (file: string) => file.split("/").length > 2 ? dirname(file) : undefined;
  const folders = new Map<string, string[]>();
  for (const [file, imports] of graph) {
    const from = folderOf(file);
    if (!from) continue;
    const targets = folders.get(from) ?? [];
    for (const to of imports.map(folderOf)) {
      if (to && to !== from && !targets.includes(to)) targets.push(to);
    }
    folders.set(from, targets);
  }
  return folders;
}

if (import.meta.main) {
  const root = Deno.args[0] ?? ".";
  const problems = checkLayers(root);
  for (const problem of problems) console.error(problem);
  const files = productFiles(root).length;
  if (problems.length > 0) {
    console.error(`${problems.length} problem(s) in the layers of ${files} files`);
    Deno.exit(1);
  }
  console.log(`layers: ${files} files, every import points down, no cycle`);
}
