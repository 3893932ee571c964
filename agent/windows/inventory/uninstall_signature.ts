/**
 * Notices that installed software changed on Windows: an install or removal
 * adds or removes a subkey of an `Uninstall` key (which changes that key's
 * last write and subkey count), and an update rewrites a subkey's values
 * (which changes that subkey's last write alone). So the signature is, for
 * each place installs are listed, the key's own state and the latest write
 * among its subkeys: a few hundred registry calls every few seconds, each
 * microseconds on Windows.
 *
 * @module
 */
import { withKey } from "./registry.ts";
import { type UninstallHive, uninstallHives } from "./uninstall_source.ts";

/** The `Uninstall` keys' states and their subkeys' latest writes, as one string. */
export function uninstallSignature(hives: UninstallHive[] = uninstallHives()): Promise<string> {
  const parts = hives.map((hive) =>
    withKey(hive.root, hive.path, hive.view, (uninstall) => {
      let latest = 0n;
      for (const name of uninstall.subkeys()) {
        const written = withKey(uninstall, name, hive.view, (entry) => entry.lastWriteTicks()) ??
          0n;
        if (written > latest) latest = written;
      }
      return `${uninstall.lastWrite()}/${latest}`;
    }) ?? "-"
  );
  return Promise.resolve(parts.join(" "));
}
