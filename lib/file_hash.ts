/**
 * Hashing an open file: the sha256 of its content, read in chunks, and the
 * file's identity (device, inode, size, mtime) a kept hash is valid for.
 * The agent hashes running executables and installed programs with it, on
 * any platform.
 *
 * @module
 */
import { createHash } from "node:crypto";

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
