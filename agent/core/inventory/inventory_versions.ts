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
import type { InstalledProduct } from "../../../model/inventory_record.ts";

export class InventoryVersions {
  #products = new Map<string, InstalledProduct>();
  #byPath = new Map<string, string>();
  #bySnap = new Map<string, string>();

  /**
   * Takes the products of an inventory; those of `failedSources` (which
   * could not be listed this time) are kept from before. True when a version
   * changed, so that running processes are judged again.
   */
  update(products: Map<string, InstalledProduct>, failedSources: readonly string[] = []): boolean {
    const merged = new Map(products);
    for (const [key, product] of this.#products) {
      if (failedSources.includes(product.source) && !merged.has(key)) merged.set(key, product);
    }
    const before = JSON.stringify([...this.#byPath, ...this.#bySnap]);
    this.#products = merged;
    this.#byPath = new Map();
    this.#bySnap = new Map();
    for (const [key, product] of merged) {
      if (!product.version || product.source === "dpkg" || product.source === "desktop") continue;
      if (product.source === "snap") this.#bySnap.set(key.slice("snap/".length), product.version);
      for (const file of product.files) this.#byPath.set(file.path, product.version);
    }
    return JSON.stringify([...this.#byPath, ...this.#bySnap]) !== before;
  }

  versionOf(path: string): string | null {
    const snap = /^\/snap\/([^/]+)\//.exec(path);
    return this.#byPath.get(path) ?? (snap && this.#bySnap.get(snap[1])) ?? null;
  }
}
