/**
 * Notices that installed software changed on Windows: every install and
 * removal adds, removes or rewrites a subkey of an `Uninstall` key, which
 * changes that key's last-write time and subkey count. Reading them for
 * each place installs are listed costs a few registry calls.
 *
 * @module
 */
import { withKey } from "../registry.ts";
import { type UninstallHive, uninstallHives } from "./uninstall_source.ts";

/** The `Uninstall` keys' last writes and subkey counts as one string. */
export function uninstallSignature(hives: UninstallHive[] = uninstallHives()): Promise<string> {
  const parts = hives.map((hive) =>
    withKey(hive.root, hive.path, hive.view, (key) => key.lastWrite()) ?? "-"
  );
  return Promise.resolve(parts.join(" "));
}
