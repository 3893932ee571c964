/**
 * The sha256 of a process's executable, which rules use where Windows would
 * read a PE header's original file name: a renamed or copied program has the
 * same content.
 *
 * The file is opened through `/proc/PID/exe`, which reaches the very file the
 * process runs even after it was deleted or replaced by a package upgrade.
 * Hashes are kept by the opened file's (device, inode, size, mtime), so each
 * distinct executable is read once however many processes run it, and a file
 * rewritten in place is hashed again. The cache is bounded, least recently
 * used first out.
 *
 * @module
 */
import { createHash } from "node:crypto";

export interface ExeHasherOptions {
  /** Where procfs is mounted; `/proc` unless a test points elsewhere. */
  procRoot?: string;
  /** Distinct executables whose hash is kept. */
  maxEntries?: number;
}

export class ExeHasher {
  readonly #procRoot: string;
  readonly #maxEntries: number;
  // Map order is use order: a hit moves its entry to the end.
  readonly #hashes = new Map<string, Promise<string | null>>();
  #filesHashed = 0;

  constructor(options: ExeHasherOptions = {}) {
    this.#procRoot = options.procRoot ?? "/proc";
    this.#maxEntries = options.maxEntries ?? 1_000;
  }

  /** How many files were read to the end so far (the rest came from the cache). */
  get filesHashed(): number {
    return this.#filesHashed;
  }

  /**
   * The lowercase hex sha256 of the executable process `pid` runs, or `null`
   * when it cannot be read (the process has gone, or belongs to another user
   * and the agent is not root).
   */
  async sha256(pid: number): Promise<string | null> {
    let file: Deno.FsFile;
    try {
      file = await Deno.open(`${this.#procRoot}/${pid}/exe`);
    } catch {
      return null;
    }
    try {
      // The identity of the opened file, not of whatever the path names by now.
      const key = fileKey(await file.stat());
      const cached = this.#hashes.get(key);
      if (cached) {
        this.#hashes.delete(key);
        this.#hashes.set(key, cached);
        return await cached;
      }
      const hashing = this.#hashFile(file);
      this.#remember(key, hashing);
      const hash = await hashing;
      if (hash === null) this.#hashes.delete(key);
      return hash;
    } catch {
      return null;
    } finally {
      file.close();
    }
  }

  async #hashFile(file: Deno.FsFile): Promise<string | null> {
    const hash = await sha256OfOpenFile(file);
    if (hash !== null) this.#filesHashed++;
    return hash;
  }

  #remember(key: string, hashing: Promise<string | null>): void {
    this.#hashes.set(key, hashing);
    while (this.#hashes.size > this.#maxEntries) {
      this.#hashes.delete(this.#hashes.keys().next().value!);
    }
  }
}

/**
 * The lowercase hex sha256 of an open file read from where it stands, or
 * `null` on a read error. A caller hashing many files one after another
 * passes its own `buffer`, so that hundreds of megabytes of programs do not
 * leave as many buffers for the garbage collector (and the process's
 * resident memory high).
 */
export async function sha256OfOpenFile(
  file: Deno.FsFile,
  buffer = new Uint8Array(256 * 1024),
): Promise<string | null> {
  const hash = createHash("sha256");
  try {
    for (;;) {
      const read = await file.read(buffer);
      if (read === null) break;
      hash.update(buffer.subarray(0, read));
    }
  } catch {
    return null;
  }
  return hash.digest("hex");
}

/** A file's identity for caching its hash: a rewrite changes the size or mtime, a replacement the inode. */
export function fileKey(info: Deno.FileInfo): string {
  return `${info.dev}:${info.ino}:${info.size}:${info.mtime?.getTime()}`;
}
