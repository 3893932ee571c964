/**
 * The version of the product that owns an executable, from the last
 * inventory, for programs dpkg does not own: an rpm package's programs by
 * path, and a snap's by its mount (`/snap/<name>/<revision>/...`, where the
 * processes of a snap run). dpkg's own files are answered by
 * `package_version.ts`, which indexes every file a package lists, not only
 * its programs.
 *
 * @module
 */
import type { InstalledProduct } from "../../sync/inventory_record.ts";

export class InventoryVersions {
  #byPath = new Map<string, string>();
  #bySnap = new Map<string, string>();

  update(products: Map<string, InstalledProduct>): void {
    const byPath = new Map<string, string>();
    const bySnap = new Map<string, string>();
    for (const [key, product] of products) {
      if (!product.version || product.source === "dpkg" || product.source === "desktop") continue;
      if (product.source === "snap") bySnap.set(key.slice("snap/".length), product.version);
      for (const file of product.files) byPath.set(file.path, product.version);
    }
    this.#byPath = byPath;
    this.#bySnap = bySnap;
  }

  versionOf(path: string): string | null {
    const snap = /^\/snap\/([^/]+)\//.exec(path);
    return this.#byPath.get(path) ?? (snap && this.#bySnap.get(snap[1])) ?? null;
  }
}
