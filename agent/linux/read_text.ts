/**
 * Reading a small system file (`/proc`, `/etc/passwd`, dpkg's lists) that
 * may be missing, vanish mid-read or be unreadable: absence is an answer,
 * not an error.
 *
 * @module
 */

/** The file's text, or `undefined` when it cannot be read. */
export function readTextOrUndefined(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return undefined;
  }
}
