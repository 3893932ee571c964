/**
 * The last part of a path, for paths from Linux and from Windows alike: a
 * site holds both, and a Windows path splits at `\` as well as `/`. No
 * Linux file name of a program holds a backslash in practice.
 *
 * @module
 */

/** `C:\Tools\cad.exe` → `cad.exe`, `/usr/bin/vim` → `vim`. */
export function baseName(path: string): string {
  return path.slice(Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\")) + 1);
}

/** A path from the root of a file system: `/…`, `C:\…` or a share's `\\server\…`. */
export function isAbsolutePath(path: string): boolean {
  return path.startsWith("/") || /^[A-Za-z]:[\\/]/.test(path) || path.startsWith("\\\\");
}
