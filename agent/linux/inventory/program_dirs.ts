/**
 * Where a package's programs live. A package lists every file it installs
 * (libraries, documentation, data); the inventory keeps as its executables
 * only the files in the directories a shell's PATH searches, which is where
 * the programs a person or a script starts are. Applications installed under
 * `/opt` or `/usr/lib` are reached through the desktop entry that starts them.
 *
 * @module
 */

const PROGRAM_DIRS = [
  "/usr/bin/",
  "/usr/sbin/",
  "/bin/",
  "/sbin/",
  "/usr/games/",
  "/usr/local/bin/",
  "/usr/local/sbin/",
  "/usr/local/games/",
];

/** True for a path directly inside one of the PATH directories. */
export function isInProgramDir(path: string): boolean {
  for (const dir of PROGRAM_DIRS) {
    if (path.startsWith(dir) && path.length > dir.length && !path.includes("/", dir.length)) {
      return true;
    }
  }
  return false;
}
