/**
 * The inventory sources of a Linux computer, each reading its package
 * manager's own format: dpkg's database, rpm's query output, snap and
 * flatpak listings, and desktop entries (which map a product to the program
 * a person starts). A source whose tool is absent finds nothing.
 *
 * @module
 */
import { readDesktopProducts } from "./desktop_source.ts";
import { readDpkgProducts } from "./dpkg_source.ts";
import { readFlatpakProducts } from "./flatpak_source.ts";
import type { InventorySource } from "../../core/inventory/inventory_collector.ts";
import { readRpmProducts } from "./rpm_source.ts";
import { readSnapProducts } from "./snap_source.ts";

export function defaultInventorySources(): InventorySource[] {
  return [
    { name: "dpkg", read: () => readDpkgProducts() },
    { name: "rpm", read: () => readRpmProducts() },
    { name: "flatpak", read: () => readFlatpakProducts() },
    { name: "snap", read: () => readSnapProducts() },
    { name: "desktop", read: () => readDesktopProducts() },
  ];
}
