/**
 * The sha256 of a process's executable, which rules match a renamed or
 * copied program by: it has the same content.
 *
 * The platform names the file: on Linux `/proc/PID/exe`, which reaches the
 * very file the process runs even after it was deleted or replaced by a
 * package upgrade; on Windows the image path (a running program's file
 * cannot be rewritten there). Hashes are kept by the opened file's (device, inode, size, mtime), so each
 * distinct executable is read once however many processes run it, and a file
 * rewritten in place is hashed again. The cache is bounded, least recently
 * used first out.
 *
 * @module
 */
import { fileKey, sha256OfOpenFile } from "../../lib/file_hash.ts";

export interface ExeHasherOptions {
  /** Distinct executables whose hash is kept. */
  maxEntries?: number;
}

export class ExeHasher {
  readonly #maxEntries: number;
  // Map order is use order: a hit moves its entry to the end.
  readonly #hashes = new Map<string, Promise<string | null>>();
  #filesHashed = 0;

  constructor(options: ExeHasherOptions = {}) {
    this.#maxEntries = options.maxEntries ?? 1_000;
  }

  /** How many files were read to the end so far (the rest came from the cache). */
  get filesHashed(): number {
    return this.#filesHashed;
  }

  /**
   * The lowercase hex sha256 of the executable at `path` (`/proc/PID/exe`
   * for a Linux process), or `null` when it cannot be read (the process has
   * gone, or belongs to another user and the agent is not root).
   */
  async sha256(path: string): Promise<string | null> {
    let file: Deno.FsFile;
    try {
      file = await Deno.open(path);
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
