/**
 * The RPM inventory source: every package in the rpm database, with the
 * programs it installs in the PATH directories.
 *
 * One `rpm -qa --queryformat` run prints, for each package, a header line and
 * then one line per file with its mode in `ls -l` form, so a single process
 * reads the whole database instead of one `rpm -ql` per package. The text is
 * parsed by {@link parseRpmQuery}, a pure function the tests feed with saved
 * outputs; {@link readRpmProducts} runs the command. A computer without rpm
 * (Debian, Ubuntu) yields nothing and no problem.
 *
 * @module
 */
import type { FoundProduct, SourceResult } from "../../core/inventory/found_product.ts";
import { isInProgramDir } from "./program_dirs.ts";
import { toolOutput } from "./tool_output.ts";

/**
 * The query format, in rpm's own syntax (rpm-queryformat(7)): a header line
 * per package, starting with `@` (no file mode starts with it), then
 * `<mode>\t<path>` per file. The file list sits inside a `%|BASENAMES?{...}:{}|`
 * conditional so that a package owning no files (basesystem, gpg-pubkey)
 * prints its header alone, whatever rpm prints for an iterator over an absent
 * array. VENDOR comes last: it is free text. An absent tag prints `(none)`.
 */
export const RPM_QUERY_FORMAT = "@\\t%{NAME}\\t%{EPOCH}\\t%{VERSION}-%{RELEASE}\\t%{ARCH}" +
  "\\t%{INSTALLTIME}\\t%{VENDOR}\\n" +
  "%|BASENAMES?{[%{FILEMODES:perms}\\t%{FILENAMES}\\n]}:{}|";

const HEADER_FIELDS = 7;
/** `ls -l` style mode as rpm's `:perms` prints it, a tab, then the path. */
const FILE_LINE = /^([-dlpscb][-rwxsStT]{9})\t(.+)$/;

export interface RpmReadOptions {
  /** The rpm program; tests pass a path that does not exist, or a stand-in script. */
  command?: string;
  timeoutMs?: number;
}

/** Runs `rpm -qa` and parses it; no rpm on this computer means no products and no problem. */
export async function readRpmProducts(options: RpmReadOptions = {}): Promise<SourceResult> {
  const command = options.command ?? "rpm";
  const timeoutMs = options.timeoutMs ?? 60_000;
  const run = await toolOutput({
    source: "rpm",
    command,
    args: ["-qa", "--queryformat", RPM_QUERY_FORMAT],
    env: { LC_ALL: "C" },
    timeoutMs,
  });
  if (run === null) return { products: [], problems: [] };
  const parsed = parseRpmQuery(run.text);
  return {
    products: parsed.products,
    problems: [...run.problems, ...parsed.problems],
    failed: run.failed,
  };
}

interface PackageInProgress {
  product: FoundProduct;
  line: number;
}

/**
 * Products from the output of `rpm -qa --queryformat` {@link RPM_QUERY_FORMAT}.
 * A line it cannot read becomes a problem naming its number; output cut off
 * mid-line drops the package being read, whose file list is incomplete.
 */
export function parseRpmQuery(text: string): SourceResult {
  const problems: string[] = [];
  const found: FoundProduct[] = [];
  const lines = text.split("\n");
  const truncated = !text.endsWith("\n") && text !== "";
  if (!truncated) lines.pop();
  let current: PackageInProgress | null = null;
  // After a header that could not be read, its file lines belong to no package.
  let skipping = false;
  const finish = () => {
    if (current && current.product.name !== "gpg-pubkey") found.push(current.product);
    current = null;
  };
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index];
    const lineNumber = index + 1;
    if (truncated && index === lines.length - 1) {
      // A cut header loses only its own package; a cut file line leaves the
      // package being read with part of its files, so it goes too.
      if (line.startsWith("@")) finish();
      problems.push(truncationProblem(lineNumber, current));
      current = null;
      break;
    }
    if (line === "") continue;
    if (line.startsWith("@\t")) {
      finish();
      const product = parseHeader(line);
      skipping = typeof product === "string";
      if (typeof product === "string") problems.push(`rpm: line ${lineNumber}: ${product}`);
      else current = { product, line: lineNumber };
      continue;
    }
    const file = FILE_LINE.exec(line);
    if (file && current) addFile(current.product, file[1], file[2]);
    else if (file && !skipping) problems.push(`rpm: line ${lineNumber}: a file before any package`);
    else if (!file) problems.push(`rpm: line ${lineNumber}: neither a package nor a file line`);
  }
  finish();
  return { products: newestPerKey(found), problems };
}

function truncationProblem(lineNumber: number, current: PackageInProgress | null): string {
  const dropped = current
    ? `; package ${current.product.name} (line ${current.line}) dropped, its file list is incomplete`
    : "";
  return `rpm: line ${lineNumber}: output ends mid-line (truncated)${dropped}`;
}

/** A product from a header line, or why the line is not one. */
function parseHeader(line: string): FoundProduct | string {
  const fields = line.split("\t");
  if (fields.length < HEADER_FIELDS) {
    return `package header has ${fields.length} of ${HEADER_FIELDS} fields`;
  }
  const [, name, epoch, versionRelease, arch, installTime] = fields;
  // The vendor is free text; should it hold a tab, it is still one field.
  const vendor = fields.slice(HEADER_FIELDS - 1).join("\t");
  if (name === "" || versionRelease === "" || arch === "") {
    return "package header without a name, version or architecture";
  }
  const seconds = Number(installTime);
  return {
    key: `rpm/${name}.${arch}`,
    name,
    version: epoch === "(none)" || epoch === "0" ? versionRelease : `${epoch}:${versionRelease}`,
    publisher: vendor === "(none)" ? "" : vendor,
    source: "rpm",
    installedAt: installTime !== "" && Number.isInteger(seconds) ? seconds * 1000 : null,
    executables: [],
  };
}

/** Keeps a file if it is a program a person or script starts: executable, in a PATH directory. */
function addFile(product: FoundProduct, perms: string, path: string): void {
  const regular = perms[0] === "-";
  // Any execute bit: `x`, or `s`/`t` where setuid, setgid or sticky sit on one.
  const executable = /[xst]/.test(perms[3] + perms[6] + perms[9]);
  if (regular && executable && isInProgramDir(path)) product.executables.push(path);
}

/**
 * One product per key. Install-only packages (kernels) can be installed in
 * several versions at once under one name and architecture; the one installed
 * last is the one a new boot runs, so it stands for the key.
 */
function newestPerKey(products: FoundProduct[]): FoundProduct[] {
  const byKey = new Map<string, FoundProduct>();
  for (const product of products) {
    const kept = byKey.get(product.key);
    if (!kept || (product.installedAt ?? -1) >= (kept.installedAt ?? -1)) {
      byKey.set(product.key, product);
    }
  }
  return [...byKey.values()];
}
