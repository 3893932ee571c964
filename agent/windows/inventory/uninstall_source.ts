/**
 * The Windows inventory source: the products "Apps & features" lists, read
 * from the registry's `Uninstall` keys: machine-wide installs in the 64-bit
 * and the 32-bit view, and each loaded user profile's own installs. Each
 * entry gives a name, version, publisher, install date and folder; its
 * executables are the program its icon names and the `.exe` files in its
 * install folder (and one level below).
 *
 * Entries Windows itself hides are left out: those marked `SystemComponent`,
 * updates of another entry (`ParentKeyName`), and those without a name.
 *
 * @module
 */
import type { FoundProduct, SourceResult } from "../../core/inventory/found_product.ts";
import {
  HKEY_LOCAL_MACHINE,
  HKEY_USERS,
  type RegistryKey,
  type RegistryView,
  withKey,
} from "./registry.ts";

export const UNINSTALL_PATH = "Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall";

/** One place installs are listed: a root, a view, and how its keys are named. */
export interface UninstallHive {
  root: bigint;
  /** The path of its `Uninstall` key under the root. */
  path: string;
  view: RegistryView;
  /** Goes into each product's key: `machine`, `machine32` or `user/<sid>`. */
  label: string;
}

/** Executables listed per product at most, and folders looked into. */
const MAX_EXECUTABLES = 50;

/** Where installs are listed on this computer: both machine views, and every loaded profile. */
export function uninstallHives(): UninstallHive[] {
  const hives: UninstallHive[] = [
    { root: HKEY_LOCAL_MACHINE, path: UNINSTALL_PATH, view: "64", label: "machine" },
    { root: HKEY_LOCAL_MACHINE, path: UNINSTALL_PATH, view: "32", label: "machine32" },
  ];
  const profiles = withKey(HKEY_USERS, "", "64", (users) => users.subkeys()) ?? [];
  for (const sid of profiles) {
    // `<sid>_Classes` holds file associations; `.DEFAULT` and the service
    // accounts (`S-1-5-18`, `-19`, `-20`) install nothing of their own.
    if (!/^S-1-5-21-[\d-]+$/.test(sid)) continue;
    hives.push({
      root: HKEY_USERS,
      path: `${sid}\\${UNINSTALL_PATH}`,
      view: "64",
      label: `user/${sid}`,
    });
  }
  return hives;
}

export async function readUninstallProducts(
  hives: UninstallHive[] = uninstallHives(),
): Promise<SourceResult> {
  const products: FoundProduct[] = [];
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const hive of hives) {
    const found = withKey(hive.root, hive.path, hive.view, (uninstall) => {
      return uninstall.subkeys().map((name) =>
        withKey(uninstall, name, hive.view, (entry) => productOf(hive, name, entry))
      );
    }) ?? [];
    for (const product of found) {
      // The 32-bit view of a 32-bit Windows (or Wine prefix) is the same key.
      if (!product || seen.has(product.identity)) continue;
      seen.add(product.identity);
      products.push({ ...product.found, executables: await executablesOf(product.entry) });
    }
  }
  return { products, problems };
}

interface EntryFacts {
  installLocation: string | null;
  displayIcon: string | null;
}

interface ReadEntry {
  found: Omit<FoundProduct, "executables">;
  entry: EntryFacts;
  /** The same install seen through both views has the same identity. */
  identity: string;
}

function productOf(hive: UninstallHive, name: string, key: RegistryKey): ReadEntry | null {
  const displayName = key.value("DisplayName")?.trim();
  if (!displayName) return null;
  if (key.value("SystemComponent") === "1" || key.value("ParentKeyName")) return null;
  const version = key.value("DisplayVersion")?.trim() ?? "";
  return {
    found: {
      key: `registry/${hive.label}/${name}`,
      name: displayName,
      version,
      publisher: key.value("Publisher")?.trim() ?? "",
      source: "registry",
      installedAt: installDate(key.value("InstallDate")),
    },
    entry: {
      installLocation: key.value("InstallLocation")?.trim() || null,
      displayIcon: key.value("DisplayIcon")?.trim() || null,
    },
    identity: `${hive.label.replace(/^machine32$/, "machine")}/${name}|${displayName}|${version}`,
  };
}

/** `InstallDate` is `YYYYMMDD`; anything else is unknown. */
export function installDate(value: string | null): number | null {
  const match = /^(\d{4})(\d{2})(\d{2})$/.exec(value?.trim() ?? "");
  if (!match) return null;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const ms = Date.UTC(year, month - 1, day);
  // Date.UTC rolls 20261301 over into 2027: a date that does not come back whole is not one.
  const date = new Date(ms);
  const whole = date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 &&
    date.getUTCDate() === day;
  return whole && year >= 1970 ? ms : null;
}

/**
 * `DisplayIcon` is a path, perhaps quoted and followed by `,<icon index>`:
 * the program's path when it is an `.exe`.
 */
export function iconProgram(displayIcon: string | null): string | null {
  if (!displayIcon) return null;
  const path = displayIcon.replace(/,\s*-?\d+$/, "").replace(/^"(.*)"$/, "$1").trim();
  return /\.exe$/i.test(path) ? path : null;
}

async function executablesOf(entry: EntryFacts): Promise<string[]> {
  const found = new Map<string, string>();
  const add = (path: string) => {
    if (found.size < MAX_EXECUTABLES) found.set(path.toLowerCase(), path);
  };
  const icon = iconProgram(entry.displayIcon);
  if (icon && await isFile(icon)) add(icon);
  if (entry.installLocation) {
    const folder = entry.installLocation.replace(/^"(.*)"$/, "$1").replace(/[\\/]+$/, "");
    for (const path of await exesIn(folder, 1)) add(path);
  }
  return [...found.values()];
}

/** The `.exe` files in `folder`, and in its subfolders down to `depth`. */
async function exesIn(folder: string, depth: number): Promise<string[]> {
  const paths: string[] = [];
  try {
    for await (const item of Deno.readDir(folder)) {
      const path = `${folder}\\${item.name}`;
      if (item.isFile && /\.exe$/i.test(item.name)) paths.push(path);
      else if (item.isDirectory && depth > 0) paths.push(...await exesIn(path, depth - 1));
      if (paths.length >= MAX_EXECUTABLES) break;
    }
  } catch {
    // A folder that is gone or closed to the agent lists nothing.
  }
  return paths;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}
