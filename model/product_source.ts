/**
 * Where an inventoried product comes from: the package managers and desktop
 * entries the agent reads on Linux, and the registry's `Uninstall` keys on
 * Windows. Kept apart from the record encoding so that the
 * command line's help can name them without loading CBOR.
 *
 * @module
 */
export const PRODUCT_SOURCES = ["dpkg", "rpm", "flatpak", "snap", "desktop", "registry"] as const;
export type ProductSource = (typeof PRODUCT_SOURCES)[number];
