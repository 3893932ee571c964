/**
 * The version of the package that owns an executable, from dpkg's database,
 * for rules that meter one version of a program (`version: "115.*"`).
 *
 * dpkg records each package's files in `info/<package>[:<arch>].list` and its
 * state and version in `status`. The lists hold about 120,000 paths (7 MB) on
 * a desktop; a `Map` of them would keep some 13 MB in an agent that otherwise
 * needs little, so the index built on the first lookup keeps only a 32-bit
 * hash of each path beside the number of its list, sorted in one
 * `Float64Array` (8 bytes a path, about 1 MB), and a lookup confirms a hash hit
 * by reading that one list. Answers are kept per path. Everything is dropped
 * when the mtime of `status` changes, which dpkg rewrites on every install and
 * removal.
 *
 * On usr-merged systems `/bin` is a link to `/usr/bin`, so a process runs
 * `/usr/bin/sleep` while the package lists `/bin/sleep`; both spellings are
 * tried. Diversions (`dpkg-divert`) are not followed.
 *
 * @module
 */
import { parseDpkgStatus } from "./inventory/dpkg_source.ts";
import { readTextOrUndefined } from "./read_text.ts";
import { fnv1a } from "../../lib/fnv1a.ts";

export interface PackageInfo {
  name: string;
  version: string;
  architecture: string;
}

export interface PackageVersionsOptions {
  /** dpkg's administrative directory; `/var/lib/dpkg` unless a test points elsewhere. */
  dpkgRoot?: string;
  /** Paths whose answer is kept before the cache starts over. */
  maxCachedPaths?: number;
}

interface OwnerIndex {
  statusMtime: number;
  /** List file names without `.list`, e.g. `coreutils` or `libc6:amd64`. */
  lists: string[];
  /** `hash * LIST_SLOTS + list number`, sorted. */
  entries: Float64Array;
  /** Installed packages by `name:arch` and by `name`. */
  installed: Map<string, PackageInfo>;
}

// 2^32 hashes times 2^20 lists stay below 2^53, exact in a double.
const LIST_SLOTS = 2 ** 20;

export class PackageVersions {
  readonly #root: string;
  readonly #maxCachedPaths: number;
  #index: OwnerIndex | undefined;
  #answers = new Map<string, PackageInfo | null>();

  constructor(options: PackageVersionsOptions = {}) {
    this.#root = options.dpkgRoot ?? "/var/lib/dpkg";
    this.#maxCachedPaths = options.maxCachedPaths ?? 10_000;
  }

  /** The version of the installed package owning `path`, or `null`. */
  async versionOf(path: string): Promise<string | null> {
    return (await this.packageOf(path))?.version ?? null;
  }

  /** The installed package owning `path`, or `null` (no dpkg, or no owner). */
  async packageOf(path: string): Promise<PackageInfo | null> {
    const statusMtime = await this.#statusMtime();
    if (statusMtime === null) return null;
    if (this.#index?.statusMtime !== statusMtime) {
      // Reading every list takes tens of ms; doing it synchronously keeps it one pass.
      this.#index = buildIndex(this.#root, statusMtime);
      this.#answers.clear();
    }
    if (this.#answers.has(path)) return this.#answers.get(path)!;
    const answer = findOwner(this.#root, this.#index, path);
    if (this.#answers.size >= this.#maxCachedPaths) this.#answers.clear();
    this.#answers.set(path, answer);
    return answer;
  }

  async #statusMtime(): Promise<number | null> {
    try {
      return (await Deno.stat(`${this.#root}/status`)).mtime?.getTime() ?? 0;
    } catch {
      return null;
    }
  }
}

function buildIndex(root: string, statusMtime: number): OwnerIndex {
  const lists = listFiles(`${root}/info`);
  let entries = new Float64Array(1 << 16);
  let count = 0;
  lists.forEach((list, number) => {
    const text = readTextOrUndefined(`${root}/info/${list}.list`) ?? "";
    for (let start = 0; start < text.length;) {
      let end = text.indexOf("\n", start);
      if (end < 0) end = text.length;
      if (end > start) {
        if (count === entries.length) entries = grow(entries);
        entries[count++] = fnv1a(text, start, end) * LIST_SLOTS + number;
      }
      start = end + 1;
    }
  });
  entries = entries.slice(0, count).sort();
  return {
    statusMtime,
    lists,
    entries,
    installed: parseStatus(readTextOrUndefined(`${root}/status`) ?? ""),
  };
}

function listFiles(dir: string): string[] {
  const lists: string[] = [];
  try {
    for (const entry of Deno.readDirSync(dir)) {
      if (entry.name.endsWith(".list")) lists.push(entry.name.slice(0, -".list".length));
    }
  } catch {
    // No info directory: nothing is owned.
  }
  return lists.slice(0, LIST_SLOTS);
}

function findOwner(root: string, index: OwnerIndex, path: string): PackageInfo | null {
  for (const candidate of usrMergeAliases(path)) {
    for (const list of listsWithHash(index, fnv1a(candidate, 0, candidate.length))) {
      const text = readTextOrUndefined(`${root}/info/${list}.list`) ?? "";
      // Confirms the hash hit; the list may also have changed since indexing.
      if (!`\n${text}\n`.includes(`\n${candidate}\n`)) continue;
      const owner = installedPackage(index.installed, list);
      if (owner) return owner;
    }
  }
  return null;
}

/** Lists holding a path with this hash, found by binary search. */
function listsWithHash(index: OwnerIndex, hash: number): string[] {
  const { entries } = index;
  const lowest = hash * LIST_SLOTS;
  let low = 0;
  let high = entries.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (entries[middle] < lowest) low = middle + 1;
    else high = middle;
  }
  const found: string[] = [];
  for (let i = low; i < entries.length && entries[i] < lowest + LIST_SLOTS; i++) {
    found.push(index.lists[entries[i] - lowest]);
  }
  return found;
}

/** `libc6:amd64` names a multi-arch package; a bare name any architecture. */
function installedPackage(installed: Map<string, PackageInfo>, list: string) {
  return installed.get(list) ?? installed.get(list.split(":")[0]) ?? null;
}

/** The path and its other spelling across the `/usr` merge. */
export function usrMergeAliases(path: string): string[] {
  const merged = /^\/usr(\/(?:bin|sbin|lib[^/]*)\/.+)$/.exec(path);
  if (merged) return [path, merged[1]];
  if (/^\/(?:bin|sbin|lib[^/]*)\/./.test(path)) return [path, `/usr${path}`];
  return [path];
}

/**
 * Installed packages from dpkg's `status` file, keyed by `name:arch` and by
 * `name` (only installed ones: a package removed but for its configuration
 * files owns no program).
 */
export function parseStatus(text: string): Map<string, PackageInfo> {
  const installed = new Map<string, PackageInfo>();
  for (const { name, version, architecture } of parseDpkgStatus(text).installed) {
    const info = { name, version, architecture };
    installed.set(`${name}:${architecture}`, info);
    if (!installed.has(name)) installed.set(name, info);
  }
  return installed;
}

function grow(entries: Float64Array<ArrayBuffer>): Float64Array<ArrayBuffer> {
  const larger = new Float64Array(entries.length * 2);
  larger.set(entries);
  return larger;
}
