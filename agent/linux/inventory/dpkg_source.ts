/**
 * Installed Debian packages, read straight from dpkg's database: `status`
 * (one stanza per package: name, version, architecture, maintainer, state)
 * and `info/<package>[:<arch>].list` (the files each installed). No process
 * is started: `dpkg-query` per package would cost seconds on a desktop with
 * thousands of packages.
 *
 * dpkg does not record when a package was installed; the list file is
 * written when the package is unpacked, so its mtime is the install (or last
 * upgrade) time, the same answer `ls -lt /var/lib/dpkg/info` gives an admin.
 *
 * @module
 */
import type { FoundProduct, SourceResult } from "../../core/inventory/found_product.ts";
import { isInProgramDir } from "./program_dirs.ts";
import { ownString } from "../../../lib/own_string.ts";

export interface DpkgPackage {
  name: string;
  version: string;
  architecture: string;
  maintainer: string;
}

export interface DpkgStatus {
  /** Packages whose state is `installed` (a removed package's leftover config owns nothing). */
  installed: DpkgPackage[];
  problems: string[];
}

/**
 * Parses dpkg's `status` file. A stanza without a package name or version
 * (a truncated file ends in one) is named in `problems`; the others count.
 */
export function parseDpkgStatus(text: string): DpkgStatus {
  const installed: DpkgPackage[] = [];
  const problems: string[] = [];
  let fields: Record<string, string> = {};
  let firstLine = 0;
  const finish = () => {
    if (Object.keys(fields).length === 0) return;
    const { Package: name, Version: version, Status: status } = fields;
    if (!name || !status || (!version && status.endsWith(" installed"))) {
      problems.push(
        `dpkg status: the stanza at line ${firstLine} lacks ${
          !name ? "Package" : !status ? "Status" : "Version"
        }${name ? ` (${name})` : ""}`,
      );
    } else if (status.split(" ")[2] === "installed") {
      // Kept after the file's text is gone: copies, not views into it.
      installed.push({
        name: ownString(name),
        version: ownString(version),
        architecture: ownString(fields.Architecture ?? ""),
        maintainer: ownString(fields.Maintainer ?? ""),
      });
    }
    fields = {};
  };
  const parseLine = (line: string, index: number) => {
    if (line.trim() === "") return finish();
    if (Object.keys(fields).length === 0) firstLine = index + 1;
    if (line[0] === " " || line[0] === "\t") return; // a continuation of a multi-line field
    const colon = line.indexOf(":");
    if (colon > 0) fields[line.slice(0, colon)] = line.slice(colon + 1).trim();
  };
  // Line by line in place, not `text.split`: V8 caches a split's result with
  // the string it split, which kept the whole file alive after parsing.
  let index = 0;
  for (let start = 0;; index++) {
    const end = text.indexOf("\n", start);
    if (end < 0) {
      parseLine(text.slice(start), index);
      break;
    }
    parseLine(text.slice(start, end), index);
    start = end + 1;
  }
  finish();
  return { installed, problems };
}

export interface DpkgSourceOptions {
  /** dpkg's administrative directory; `/var/lib/dpkg` unless a test points elsewhere. */
  dpkgRoot?: string;
}

/**
 * The installed packages with their programs; empty where dpkg is absent.
 * The list files are read asynchronously, so a desktop's thousands of
 * packages never hold up the agent's process polling, and a few at a time,
 * so they are not all in memory at once.
 */
export async function readDpkgProducts(options: DpkgSourceOptions = {}): Promise<SourceResult> {
  const root = options.dpkgRoot ?? "/var/lib/dpkg";
  const text = await Deno.readTextFile(`${root}/status`).catch(() => undefined);
  if (text === undefined) return { products: [], problems: [] };
  const status = parseDpkgStatus(text);
  const products: FoundProduct[] = [];
  for (let i = 0; i < status.installed.length; i += PACKAGES_AT_ONCE) {
    const batch = status.installed.slice(i, i + PACKAGES_AT_ONCE);
    products.push(...await Promise.all(batch.map((pkg) => productOf(root, pkg))));
  }
  return { products, problems: status.problems };
}

const PACKAGES_AT_ONCE = 8;

async function productOf(root: string, pkg: DpkgPackage): Promise<FoundProduct> {
  const qualified = `${pkg.name}:${pkg.architecture}`;
  // Multi-arch packages name their list `<name>:<arch>.list`; the others `<name>.list`.
  let list: { mtime: number | null; text: string } | undefined;
  for (const path of [`${root}/info/${qualified}.list`, `${root}/info/${pkg.name}.list`]) {
    list = await readList(path);
    if (list) break;
  }
  return {
    key: `dpkg/${qualified}`,
    name: pkg.name,
    version: pkg.version,
    publisher: pkg.maintainer,
    source: "dpkg",
    installedAt: list?.mtime ?? null,
    executables: list ? await programsIn(list.text) : [],
  };
}

async function readList(path: string) {
  try {
    const [info, text] = await Promise.all([Deno.stat(path), Deno.readTextFile(path)]);
    return { mtime: info.mtime?.getTime() ?? null, text };
  } catch {
    return undefined;
  }
}

/**
 * The listed files in PATH directories that are executable regular files.
 * On a usr-merged system (`/bin` a link to `/usr/bin`) packages still list
 * `/bin/sleep`, but every process runs `/usr/bin/sleep`: the inventory names
 * a program the way its processes are seen.
 */
async function programsIn(listText: string): Promise<string[]> {
  const candidates = new Set<string>();
  // Scanned in place: a desktop's lists hold 120,000 paths, and only the few
  // under a bin directory become strings of their own.
  for (let start = 0; start < listText.length;) {
    let end = listText.indexOf("\n", start);
    if (end < 0) end = listText.length;
    if (
      /^\/(usr\/)?(local\/)?s?bin\/|^\/usr\/(local\/)?games\//.test(
        listText.slice(start, start + 17),
      )
    ) {
      const path = ownString(usrMerged(listText.slice(start, end)));
      if (isInProgramDir(path)) candidates.add(path);
    }
    start = end + 1;
  }
  const programs: string[] = [];
  for (const path of candidates) if (await isExecutableFile(path)) programs.push(path);
  return programs;
}

const mergedDirs = new Map<string, boolean>();

function usrMerged(path: string): string {
  const top = /^\/(bin|sbin)\//.exec(path)?.[1];
  if (!top) return path;
  if (!mergedDirs.has(top)) mergedDirs.set(top, isLinkTo(`/${top}`, `usr/${top}`));
  return mergedDirs.get(top) ? `/usr${path}` : path;
}

function isLinkTo(path: string, target: string): boolean {
  try {
    return Deno.readLinkSync(path).replace(/^\//, "") === target;
  } catch {
    return false;
  }
}

/** Follows links: `/usr/bin/python3` names the program its target holds. */
async function isExecutableFile(path: string): Promise<boolean> {
  try {
    const info = await Deno.stat(path);
    return info.isFile && ((info.mode ?? 0) & 0o111) !== 0;
  } catch {
    return false;
  }
}
