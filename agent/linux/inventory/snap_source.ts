/**
 * The snap inventory source: the application snaps `snap list` shows, with
 * the launchers snapd puts in `/snap/bin` for them.
 *
 * `snap list` prints a table aligned with spaces under a header line
 * (`Name Version Rev Tracking Publisher Notes`); no cell holds a space, so a
 * row splits on white space. {@link parseSnapList} reads that text and is
 * what the tests feed with saved outputs; {@link readSnapProducts} runs the
 * command, lists the launchers and dates each snap. A computer without snapd
 * yields nothing and no problem.
 *
 * @module
 */
import type { FoundProduct, SourceResult } from "../../core/inventory/found_product.ts";
import { toolOutput } from "./tool_output.ts";

/**
 * Snap types that are not applications: the base file systems other snaps
 * run on (`base`, and `core`, the old base that also carried snapd), snapd
 * itself, and the boot pieces of Ubuntu Core (`gadget`, `kernel`). They have
 * no programs a person runs, so metering has nothing to count on them;
 * `snap list` names the type in the Notes column.
 */
const NOT_APPLICATIONS = new Set(["base", "core", "snapd", "gadget", "kernel"]);

/** The columns of `snap list`; snapd of 2018 titled Publisher `Developer` (see the tests). */
const DEFAULT_COLUMNS = ["Name", "Version", "Rev", "Tracking", "Publisher", "Notes"];
const HEADER = /^Name\s+Version\s+Rev\s/;
const SNAP_NAME = /^[a-z0-9][a-z0-9_-]*$/;
/** A store revision, or `x<n>` for a snap installed from a file. */
const REVISION = /^x?\d+$/;
/** The verified (`**`, `✓`) and star developer (`*`, `✪`) marks after a publisher. */
const PUBLISHER_MARK = /(\*\*|\*|✓|✪)$/u;

export interface SnapListContext {
  /** The launcher directory, `/snap/bin`. */
  binDir?: string;
  /** The names of the entries in `binDir`. */
  binEntries?: readonly string[];
}

export interface SnapReadOptions {
  /** The snap program; tests pass a path that does not exist, or a stand-in script. */
  command?: string;
  /** Where snaps are mounted: `/snap`, or `/var/lib/snapd/snap` on Fedora and Arch. */
  snapDir?: string;
  timeoutMs?: number;
}

/** Runs `snap list` and reads the launchers and dates; no snapd means no products and no problem. */
export async function readSnapProducts(options: SnapReadOptions = {}): Promise<SourceResult> {
  const command = options.command ?? "snap";
  const timeoutMs = options.timeoutMs ?? 60_000;
  const run = await toolOutput({
    source: "snap",
    command,
    args: ["list", "--unicode=never", "--color=never"],
    // English headers and notes: snap translates both.
    env: { LC_ALL: "C", LANG: "C" },
    timeoutMs,
  });
  if (run === null) return { products: [], problems: [] };
  const snapDir = options.snapDir ?? await defaultSnapDir();
  const binDir = `${snapDir}/bin`;
  const parsed = parseSnapList(run.text, { binDir, binEntries: await entriesOf(binDir) });
  for (const product of parsed.products) {
    product.installedAt = await currentRevisionLinkedAt(snapDir, product.name);
  }
  return {
    products: parsed.products,
    problems: [...run.problems, ...parsed.problems],
    failed: run.failed,
  };
}

/**
 * Products from the output of `snap list`. Disabled snaps (a revision kept
 * for rollback, or a snap switched off) and non-application types are left
 * out; a row that does not read as a snap becomes a problem naming its line.
 * `installedAt` stays null: the text does not say it.
 */
export function parseSnapList(text: string, context: SnapListContext = {}): SourceResult {
  const binDir = context.binDir ?? "/snap/bin";
  const binEntries = context.binEntries ?? [];
  const problems: string[] = [];
  const products: FoundProduct[] = [];
  let columns = DEFAULT_COLUMNS;
  const lines = text.split("\n");
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index].trim();
    if (line === "") continue;
    if (HEADER.test(line)) {
      columns = line.split(/\s+/);
      continue;
    }
    const row = readRow(line, columns);
    if (typeof row === "string") problems.push(`snap: line ${index + 1}: ${row}`);
    else if (row !== null) products.push(toProduct(row, binDir, binEntries));
  }
  return { products, problems };
}

interface SnapRow {
  name: string;
  version: string;
  publisher: string;
}

/** The row's snap; `null` for one left out on purpose; a string saying why it is unreadable. */
function readRow(line: string, columns: string[]): SnapRow | null | string {
  const cells = line.split(/\s+/);
  if (cells.length !== columns.length) {
    return `expected ${columns.length} columns, found ${cells.length}`;
  }
  const cell = (title: string) => cells[columns.indexOf(title)] ?? "";
  const name = cell("Name");
  if (!SNAP_NAME.test(name) || !REVISION.test(cell("Rev"))) return "not a snap row";
  const notes = cell("Notes").split(",");
  if (notes.includes("disabled") || notes.some((note) => NOT_APPLICATIONS.has(note))) return null;
  const publisher = (columns.includes("Publisher") ? cell("Publisher") : cell("Developer"))
    .replace(PUBLISHER_MARK, "");
  return { name, version: cell("Version"), publisher: publisher === "-" ? "" : publisher };
}

function toProduct(row: SnapRow, binDir: string, binEntries: readonly string[]): FoundProduct {
  // snapd names a snap's launchers `<snap>` for its main app and `<snap>.<app>` for the others.
  const launchers = binEntries
    .filter((entry) => entry === row.name || entry.startsWith(`${row.name}.`))
    .sort()
    .map((entry) => `${binDir}/${entry}`);
  return {
    key: `snap/${row.name}`,
    name: row.name,
    version: row.version,
    publisher: row.publisher,
    source: "snap",
    installedAt: null,
    executables: launchers,
  };
}

async function defaultSnapDir(): Promise<string> {
  try {
    await Deno.stat("/snap");
    return "/snap";
  } catch {
    return "/var/lib/snapd/snap";
  }
}

async function entriesOf(dir: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) names.push(entry.name);
  } catch {
    // No launcher directory: snaps without apps, or snapd not set up; no launchers.
  }
  return names;
}

/**
 * When the running revision was put in place: snapd re-points the
 * `<snapDir>/<name>/current` link on each install, refresh and revert, and
 * the link's own time (lstat, not the target's) is when it did. Like rpm's
 * INSTALLTIME it dates the installed version, so it changes only when the
 * version does. `null` when the link cannot be read.
 */
async function currentRevisionLinkedAt(snapDir: string, name: string): Promise<number | null> {
  try {
    return (await Deno.lstat(`${snapDir}/${name}/current`)).mtime?.getTime() ?? null;
  } catch {
    return null;
  }
}
