/**
 * Installed applications as a person sees them: one product per desktop
 * entry (a `.desktop` file of the freedesktop Desktop Entry Specification),
 * with the program the entry starts as its executable.
 *
 * Package managers list every file of a package but do not say which of
 * them is "the application"; a desktop entry does, and it also names
 * programs installed outside any package (`/opt`, vendor installers). The
 * record key is `desktop/<desktop file id>`, the id being the path below the
 * application directory with `/` replaced by `-` (`kde/org.kde.konsole.desktop`
 * becomes `kde-org.kde.konsole.desktop`); when several directories hold the
 * same id the first one wins, as the specification's precedence says.
 *
 * What an entry does not tell: the product's version (the `Version` key is
 * the version of the specification the file follows) and its publisher, so
 * both are `""`; the other sources fill them for packaged programs. The file's
 * mtime stands in for the installation time: a package manager writes the
 * file when it installs or upgrades the product.
 *
 * Only the system-wide directories are scanned: the agent inventories the
 * computer, not one user's `~/.local/share/applications`.
 *
 * @module
 */
import type { FoundProduct, SourceResult } from "../../core/inventory/found_product.ts";
import { baseName } from "../../../lib/base_name.ts";

/**
 * The system's application directories, most important first: `/usr/local`
 * before `/usr` as in the default `$XDG_DATA_DIRS`, then the directories
 * flatpak and snapd export their applications' entries to.
 */
export const DESKTOP_APPLICATION_DIRS = [
  "/usr/local/share/applications",
  "/usr/share/applications",
  "/var/lib/flatpak/exports/share/applications",
  "/var/lib/snapd/desktop/applications",
];

/**
 * Where a relative `Exec` program is looked for. A fixed list rather than the
 * agent's own `$PATH`: a service starts with a minimal environment, while the
 * desktop session that runs these entries searches the usual directories.
 */
export const PROGRAM_PATH = [
  "/usr/local/sbin",
  "/usr/local/bin",
  "/usr/sbin",
  "/usr/bin",
  "/sbin",
  "/bin",
  "/usr/games",
  "/usr/local/games",
];

/** The keys of an entry's `[Desktop Entry]` group that the inventory uses. */
export interface DesktopEntry {
  /** `Application`, `Link` or `Directory`; only applications are products. */
  type: string;
  /** The unlocalised `Name`. */
  name: string;
  /** `Exec` with the string escapes (`\s`, `\\`, ...) undone; still quoted, see `splitExec`. */
  exec: string | undefined;
  tryExec: string | undefined;
  /** `Hidden=true`: the entry was deleted, and hides any entry of the same id below it. */
  hidden: boolean;
  /** `NoDisplay=true`: installed but not shown in menus. */
  noDisplay: boolean;
  /** Started over D-Bus, where `Exec` may be left out. */
  dbusActivatable: boolean;
}

/** What is wrong with a file that is not a usable desktop entry. */
export interface EntryProblem {
  problem: string;
}

export interface DesktopSourceOptions {
  /** Application directories, most important first; `DESKTOP_APPLICATION_DIRS` by default. */
  dirs?: string[];
  /** Directories a relative program is looked for in; `PROGRAM_PATH` by default. */
  path?: string[];
}

const MAIN_GROUP = "Desktop Entry";
const MAX_KEY_LENGTH = 512;
const MAX_NAME_LENGTH = 255;
const STRING_ESCAPES: Record<string, string> = { s: " ", n: "\n", t: "\t", r: "\r", "\\": "\\" };

/** Parses a desktop file's `[Desktop Entry]` group; `[Desktop Action ...]` groups are ignored. */
export function parseDesktopEntry(text: string): DesktopEntry | EntryProblem {
  const keys = readMainGroup(text);
  if ("problem" in keys) return keys;
  const entry: DesktopEntry = {
    type: keys.get("Type") ?? "",
    name: unescapeValue(keys.get("Name") ?? ""),
    exec: optionalValue(keys.get("Exec")),
    tryExec: optionalValue(keys.get("TryExec")),
    hidden: keys.get("Hidden") === "true",
    noDisplay: keys.get("NoDisplay") === "true",
    dbusActivatable: keys.get("DBusActivatable") === "true",
  };
  // A deleted entry is often a stub of `Hidden=true` alone: nothing else is required of it.
  if (entry.hidden) return entry;
  if (!entry.type) return { problem: "no Type key" };
  if (!entry.name) return { problem: "no Name key" };
  if (entry.type === "Application" && entry.exec === undefined && !entry.dbusActivatable) {
    return { problem: "no Exec key" };
  }
  return entry;
}

/** The raw `key=value` pairs of the `[Desktop Entry]` group; a repeated key's first counts. */
function readMainGroup(text: string): Map<string, string> | EntryProblem {
  if (text.includes("\0")) return { problem: "binary data, not a desktop entry" };
  const keys = new Map<string, string>();
  let group: string | undefined;
  let sawMain = false;
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === "" || line.startsWith("#")) continue;
    if (line.startsWith("[") && line.endsWith("]")) {
      group = line.slice(1, -1);
      sawMain ||= group === MAIN_GROUP;
      continue;
    }
    if (group !== MAIN_GROUP) continue;
    const equals = line.indexOf("=");
    if (equals <= 0) return { problem: `line ${i + 1} is not a group, a key=value or a comment` };
    const key = line.slice(0, equals).trimEnd();
    if (!keys.has(key)) keys.set(key, line.slice(equals + 1).trimStart());
  }
  return sawMain ? keys : { problem: `no [${MAIN_GROUP}] group` };
}

function optionalValue(value: string | undefined): string | undefined {
  return value === undefined ? undefined : unescapeValue(value);
}

/**
 * Undoes the escapes of a string value (`\s`, `\n`, `\t`, `\r`, `\\`). Other
 * backslashes stay: in `Exec` they belong to the quoting `splitExec` undoes.
 */
export function unescapeValue(value: string): string {
  return value.replace(/\\([sntr\\])/g, (_, c: string) => STRING_ESCAPES[c]);
}

/**
 * Splits an `Exec` value (after `unescapeValue`) into its arguments, as the
 * specification's quoting rules say: an argument with reserved characters is
 * enclosed in `"`, inside which `\"`, `` \` ``, `\$` and `\\` stand for the
 * character. Field codes (`%f %F %u %U %i %c %k` and the deprecated ones)
 * stand for what the launcher passes, files, URLs, the icon, and are dropped;
 * `%%` is a `%`. Outside quotes a backslash escapes the next character and
 * `'...'` quotes literally, as GLib, which most desktops launch with, accepts.
 */
export function splitExec(exec: string): string[] | EntryProblem {
  const argv: string[] = [];
  let arg: string | undefined;
  let i = 0;
  while (i < exec.length) {
    const c = exec[i];
    if (c === " " || c === "\t" || c === "\n") {
      if (arg !== undefined) argv.push(arg);
      arg = undefined;
      i++;
      continue;
    }
    const part = readExecPart(exec, i);
    if ("problem" in part) return part;
    // An argument that was only field codes is no argument at all.
    if (part.text !== "" || part.quoted) arg = (arg ?? "") + part.text;
    i = part.end;
  }
  if (arg !== undefined) argv.push(arg);
  return argv;
}

interface ExecPart {
  text: string;
  quoted: boolean;
  end: number;
}

/** One quoted string, escaped character, field code or plain character of an `Exec` value. */
function readExecPart(exec: string, start: number): ExecPart | EntryProblem {
  const c = exec[start];
  if (c === '"') return readDoubleQuoted(exec, start + 1);
  if (c === "'") {
    const end = exec.indexOf("'", start + 1);
    if (end < 0) return { problem: "Exec has an unterminated ' quote" };
    return { text: exec.slice(start + 1, end), quoted: true, end: end + 1 };
  }
  if (c === "\\") {
    if (start + 1 >= exec.length) return { problem: "Exec ends in a backslash" };
    return { text: exec[start + 1], quoted: true, end: start + 2 };
  }
  if (c === "%" && start + 1 < exec.length) {
    return { text: exec[start + 1] === "%" ? "%" : "", quoted: false, end: start + 2 };
  }
  return { text: c, quoted: false, end: start + 1 };
}

function readDoubleQuoted(exec: string, start: number): ExecPart | EntryProblem {
  let text = "";
  for (let i = start; i < exec.length; i++) {
    const c = exec[i];
    if (c === '"') return { text, quoted: true, end: i + 1 };
    if (c === "\\" && '"`$\\'.includes(exec[i + 1] ?? "x")) {
      text += exec[++i];
    } else {
      text += c;
    }
  }
  return { problem: 'Exec has an unterminated " quote' };
}

/**
 * The command without a leading `env [-u NAME] [NAME=value]...`, which
 * entries use to set the program's environment.
 */
export function withoutEnv(argv: string[]): string[] {
  if (argv.length === 0 || baseName(argv[0]) !== "env") return argv;
  let i = 1;
  while (i < argv.length) {
    const arg = argv[i];
    if (arg === "--") return argv.slice(i + 1);
    if (arg === "-u" || arg === "--unset" || arg === "-C" || arg === "--chdir") i += 2;
    else if (arg.startsWith("-") || /^[^=/]+=/.test(arg)) i++;
    else break;
  }
  return argv.slice(i);
}

/**
 * True when the command starts a sandboxed or scripted program through a
 * launcher every such entry shares: `flatpak run <app>`, a snap (`/snap/bin/x`
 * is a link to `/usr/bin/snap`), `sh -c '...'`. Recording the launcher as the
 * product's executable would give every flatpak or snap the same file and
 * hash, so such entries list no executables (unless `TryExec` names the
 * real one); the flatpak and snap sources report those products' own files.
 */
export function isSharedLauncher(argv: string[]): boolean {
  const program = argv[0] ?? "";
  const name = baseName(program);
  if (name === "flatpak" || name === "snap" || program.startsWith("/snap/bin/")) return true;
  return ["sh", "bash", "dash", "zsh"].includes(name) && argv.includes("-c");
}

/** Finds programs the way the desktop's launcher does, remembering each answer for one scan. */
class ProgramFinder {
  readonly #path: string[];
  readonly #found = new Map<string, string | undefined>();

  constructor(path: string[]) {
    this.#path = path;
  }

  /** The absolute path of a regular executable file `program` names, if there is one. */
  find(program: string): string | undefined {
    if (this.#found.has(program)) return this.#found.get(program);
    const found = this.#lookUp(program);
    this.#found.set(program, found);
    return found;
  }

  #lookUp(program: string): string | undefined {
    if (program.startsWith("/")) return isExecutableFile(program) ? program : undefined;
    // A relative path with a slash means nothing without a working directory.
    if (program === "" || program.includes("/")) return undefined;
    for (const dir of this.#path) {
      const candidate = `${dir.replace(/\/+$/, "")}/${program}`;
      if (isExecutableFile(candidate)) return candidate;
    }
    return undefined;
  }
}

function isExecutableFile(path: string): boolean {
  try {
    const info = Deno.statSync(path);
    return info.isFile && (info.mode === null || (info.mode & 0o111) !== 0);
  } catch {
    return false;
  }
}

type EntryOutcome = { executables: string[] } | EntryProblem | "skip";

/**
 * The executables an application entry starts, `"skip"` when its program is
 * not installed (a leftover entry is not a fault, and desktops hide it too),
 * or a problem with its `Exec`.
 */
function entryExecutables(entry: DesktopEntry, finder: ProgramFinder): EntryOutcome {
  const tryExec = entry.tryExec === undefined ? undefined : finder.find(entry.tryExec);
  if (entry.tryExec !== undefined && tryExec === undefined) return "skip";
  // A D-Bus activated entry without Exec names its program only through TryExec.
  if (entry.exec === undefined) return tryExec ? { executables: [tryExec] } : "skip";
  const argv = splitExec(entry.exec);
  if ("problem" in argv) return argv;
  const command = withoutEnv(argv);
  if (command.length === 0) return { problem: "Exec names no program" };
  const program = finder.find(command[0]);
  if (program === undefined) return "skip";
  const executables = isSharedLauncher(command) ? [] : [program];
  if (tryExec !== undefined && !executables.includes(tryExec)) executables.push(tryExec);
  return { executables };
}

interface DesktopFile {
  id: string;
  path: string;
}

/** The `.desktop` files below `dir` with their desktop file ids, in a stable order. */
function listDesktopFiles(dir: string, problems: string[]): DesktopFile[] {
  const files: DesktopFile[] = [];
  collectDesktopFiles(dir, "", files, problems);
  return files;
}

function collectDesktopFiles(
  dir: string,
  idPrefix: string,
  files: DesktopFile[],
  problems: string[],
): void {
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(dir)];
  } catch (error) {
    // An absent directory means that kind of packaging is not in use.
    if (!(error instanceof Deno.errors.NotFound)) problems.push(`${dir}: ${message(error)}`);
    return;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const path = `${dir}/${entry.name}`;
    // Symlinked directories are not followed, so a link loop cannot trap the scan.
    if (entry.isDirectory) collectDesktopFiles(path, `${idPrefix}${entry.name}-`, files, problems);
    else if (entry.name.endsWith(".desktop")) files.push({ id: idPrefix + entry.name, path });
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** The file's text, or a problem if it cannot be read or is not UTF-8 as the spec requires. */
function readEntryText(path: string): string | EntryProblem {
  let bytes: Uint8Array;
  try {
    bytes = Deno.readFileSync(path);
  } catch (error) {
    return { problem: `cannot read: ${message(error)}` };
  }
  try {
    return utf8.decode(bytes);
  } catch {
    return { problem: "not UTF-8 text, not a desktop entry" };
  }
}

/** The product one desktop file describes, `undefined` if it describes none, or a problem. */
function readDesktopFile(
  file: DesktopFile,
  finder: ProgramFinder,
): FoundProduct | EntryProblem | undefined {
  const text = readEntryText(file.path);
  if (typeof text !== "string") return text;
  const entry = parseDesktopEntry(text);
  if ("problem" in entry) return entry;
  // NoDisplay entries are kept: they are installed programs too (helpers,
  // interpreters, settings tools) and run like any other.
  if (entry.hidden || entry.type !== "Application") return undefined;
  const outcome = entryExecutables(entry, finder);
  if (outcome === "skip") return undefined;
  if ("problem" in outcome) return outcome;
  const key = `desktop/${file.id}`;
  if (key.length > MAX_KEY_LENGTH) return { problem: "desktop file id too long for a record key" };
  return {
    key,
    name: truncate(entry.name, MAX_NAME_LENGTH),
    version: "",
    publisher: "",
    source: "desktop",
    installedAt: mtimeOf(file.path),
    executables: outcome.executables,
  };
}

/** At most `length` UTF-16 units, without splitting a surrogate pair. */
function truncate(text: string, length: number): string {
  if (text.length <= length) return text;
  const cut = text.slice(0, length);
  return /[\uD800-\uDBFF]$/.test(cut) ? cut.slice(0, -1) : cut;
}

function mtimeOf(path: string): number | null {
  try {
    return Deno.statSync(path).mtime?.getTime() ?? null;
  } catch {
    return null;
  }
}

/**
 * The applications the desktop entries in `dirs` start. Each unreadable or
 * malformed file is a problem naming it, and the other files still count.
 */
export function readDesktopProducts(options: DesktopSourceOptions = {}): Promise<SourceResult> {
  const finder = new ProgramFinder(options.path ?? PROGRAM_PATH);
  const products: FoundProduct[] = [];
  const problems: string[] = [];
  const seenIds = new Set<string>();
  for (const dir of options.dirs ?? DESKTOP_APPLICATION_DIRS) {
    for (const file of listDesktopFiles(dir, problems)) {
      // The first directory's file decides, even a deleted or broken one.
      if (seenIds.has(file.id)) continue;
      seenIds.add(file.id);
      const found = readDesktopFile(file, finder);
      if (found && "problem" in found) problems.push(`${file.path}: ${found.problem}`);
      else if (found) products.push(found);
    }
  }
  return Promise.resolve({ products, problems });
}
