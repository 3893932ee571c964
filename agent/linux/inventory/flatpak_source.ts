/**
 * The flatpak inventory source: the applications `flatpak list --app` shows,
 * in every installation it lists, with the launcher flatpak exports for each.
 *
 * When its output is not a terminal, flatpak prints one row per ref with the
 * requested columns separated by tabs, no header and no padding (it strips
 * trailing white space from a row, so the last column must never be empty:
 * `installation` never is). {@link parseFlatpakList} reads that text for a
 * given column list and is what the tests feed with saved outputs;
 * {@link readFlatpakProducts} runs the command and keeps only launchers that
 * exist. A computer without flatpak yields nothing and no problem.
 *
 * @module
 */
import type { FoundProduct, SourceResult } from "../../core/inventory/found_product.ts";
import { toolOutput } from "./tool_output.ts";

/** The columns {@link readFlatpakProducts} asks for, in this order. */
export const FLATPAK_COLUMNS = [
  "application",
  "name",
  "version",
  "branch",
  "origin",
  "installation",
] as const;

const REQUIRED_COLUMNS = ["application", "branch", "installation"];

export interface FlatpakListContext {
  /** The columns of the text, as passed to `--columns`; default {@link FLATPAK_COLUMNS}. */
  columns?: readonly string[];
  /** The system installation, `/var/lib/flatpak`. */
  systemDir?: string;
  /** The user installation of the user running flatpak, `~/.local/share/flatpak`; none if null. */
  userDir?: string | null;
  /** Whether a launcher is there; default: every launcher is. */
  launcherExists?: (path: string) => boolean;
}

export interface FlatpakReadOptions {
  /** The flatpak program; tests pass a path that does not exist, or a stand-in script. */
  command?: string;
  systemDir?: string;
  /**
   * Default `$HOME/.local/share/flatpak`. flatpak lists the user installation
   * of the user it runs as (root's, for the agent), not other people's.
   */
  userDir?: string | null;
  timeoutMs?: number;
}

/** Runs `flatpak list --app` and parses it; no flatpak means no products and no problem. */
export async function readFlatpakProducts(options: FlatpakReadOptions = {}): Promise<SourceResult> {
  const command = options.command ?? "flatpak";
  const timeoutMs = options.timeoutMs ?? 60_000;
  const run = await toolOutput({
    source: "flatpak",
    command,
    args: ["list", "--app", `--columns=${FLATPAK_COLUMNS.join(",")}`],
    // Plain tab-separated rows even if a terminal were attached; UTF-8 names untranslated.
    env: { FLATPAK_FANCY_OUTPUT: "0", LC_ALL: "C.UTF-8" },
    timeoutMs,
  });
  if (run === null) return { products: [], problems: [] };
  const home = Deno.env.get("HOME");
  const parsed = parseFlatpakList(run.text, {
    systemDir: options.systemDir,
    userDir: options.userDir !== undefined
      ? options.userDir
      : home
      ? `${home}/.local/share/flatpak`
      : null,
    launcherExists: isFile,
  });
  return {
    products: parsed.products,
    problems: [...run.problems, ...parsed.problems],
    failed: run.failed,
  };
}

/**
 * Products from the tab-separated output of `flatpak list --columns=...`.
 * A row with the wrong number of cells, or without an application, branch
 * or installation, becomes a problem naming its line. Each ref (installation,
 * application, branch) is one product; the same ref for a second
 * architecture is rare and is left out.
 */
export function parseFlatpakList(text: string, context: FlatpakListContext = {}): SourceResult {
  const columns = context.columns ?? FLATPAK_COLUMNS;
  const missing = REQUIRED_COLUMNS.filter((column) => !columns.includes(column));
  if (missing.length > 0) {
    return { products: [], problems: [`flatpak: the columns lack ${missing.join(", ")}`] };
  }
  const problems: string[] = [];
  const products = new Map<string, FoundProduct>();
  const lines = text.split("\n");
  for (let index = 0; index < lines.length; index++) {
    if (lines[index].trim() === "") continue;
    const row = readRow(lines[index], columns);
    if (typeof row === "string") {
      problems.push(`flatpak: line ${index + 1}: ${row}`);
      continue;
    }
    const product = toProduct(row, context);
    if (!products.has(product.key)) products.set(product.key, product);
  }
  return { products: [...products.values()], problems };
}

/** The row's cells by column name, or why the row cannot be read. */
function readRow(line: string, columns: readonly string[]): Map<string, string> | string {
  const cells = line.split("\t");
  if (cells.length !== columns.length) {
    return `expected ${columns.length} tab-separated columns, found ${cells.length}`;
  }
  const row = new Map(columns.map((column, index) => [column, cells[index]]));
  const empty = REQUIRED_COLUMNS.filter((column) => row.get(column) === "");
  return empty.length > 0 ? `no ${empty.join(", ")}` : row;
}

function toProduct(row: Map<string, string>, context: FlatpakListContext): FoundProduct {
  const application = row.get("application")!;
  const installation = row.get("installation")!;
  const launcher = launcherPath(installation, application, context);
  const exists = context.launcherExists ?? (() => true);
  return {
    key: `flatpak/${installation}/${application}/${row.get("branch")}`,
    // flatpak shows the application id when the app has no AppStream name.
    name: row.get("name") || application,
    version: row.get("version") ?? "",
    publisher: row.get("origin") ?? "",
    source: "flatpak",
    // flatpak list does not say when a ref was deployed.
    installedAt: null,
    executables: launcher !== null && exists(launcher) ? [launcher] : [],
  };
}

/**
 * The launcher a person runs for the app: flatpak exports a script named by
 * the application id in `<installation>/exports/bin`, and `flatpak run`
 * behind it starts the current branch, so every branch of an app shares it.
 * Extra system installations (`system (<id>)`) are configured in
 * /etc/flatpak/installations.d, which this source does not read: no launcher.
 */
function launcherPath(
  installation: string,
  application: string,
  context: FlatpakListContext,
): string | null {
  const dir = installation === "system"
    ? context.systemDir ?? "/var/lib/flatpak"
    : installation === "user"
    ? context.userDir ?? null
    : null;
  return dir === null ? null : `${dir}/exports/bin/${application}`;
}

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}
