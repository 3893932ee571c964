/**
 * Notices that installed software changed, without inotify: the package
 * managers rewrite a known file or directory on every install and removal
 * (dpkg its `status`, rpm its database, flatpak and snap their state, and
 * a new application adds a desktop entry to a directory), so the mtimes of
 * those paths, read every few seconds, are a signature that changes with the
 * installed software. A stat of a dozen paths costs microseconds.
 *
 * @module
 */

export const WATCHED_PATHS = [
  "/var/lib/dpkg/status",
  "/var/lib/rpm",
  "/var/lib/rpm/rpmdb.sqlite",
  "/var/lib/rpm/Packages",
  "/var/lib/flatpak/app",
  "/var/lib/snapd/state.json",
  "/usr/share/applications",
  "/usr/local/share/applications",
  "/var/lib/flatpak/exports/share/applications",
  "/var/lib/snapd/desktop/applications",
];

/**
 * The paths' mtimes and sizes as one string; `-` for a path that does not
 * exist. The stats are synchronous: each costs microseconds, while an
 * asynchronous one runs on a pool thread that Deno starts and, idle between
 * two checks, ends again (seen as a thread created every few seconds).
 */
export function softwareSignature(paths: readonly string[] = WATCHED_PATHS): Promise<string> {
  const parts = paths.map((path) => {
    try {
      const info = Deno.statSync(path);
      return `${info.mtime?.getTime()}:${info.size}`;
    } catch {
      return "-";
    }
  });
  return Promise.resolve(parts.join(" "));
}
