/**
 * Makes a found product fit the inventory record the site accepts
 * (`model/inventory_record.ts`), so one odd package never blocks the
 * client's syncs: texts are cut to their limits, an install time before 1970
 * or not a number is dropped, paths that are not absolute or are too long
 * are left out, and a product whose key or name cannot be made valid is
 * reported as a problem instead of written.
 *
 * @module
 */
import {
  MAX_PATH,
  MAX_PRODUCT_FILES,
  MAX_PRODUCT_TEXT,
  productKeySchema,
} from "../../../model/inventory_record.ts";
import type { FoundProduct } from "./found_product.ts";
import { isAbsolutePath } from "../../../lib/base_name.ts";

/** The product as the record can hold it, or a problem naming it. */
export function fitProduct(found: FoundProduct): FoundProduct | string {
  if (!productKeySchema.safeParse(found.key).success) {
    return `${found.source}: product key ${JSON.stringify(found.key.slice(0, 80))} is not valid`;
  }
  const name = cut(found.name.trim());
  if (name === "") return `${found.key}: the product has no name`;
  const installedAt = Number.isFinite(found.installedAt) && found.installedAt! >= 0
    ? Math.floor(found.installedAt!)
    : null;
  const executables = [...new Set(found.executables)]
    .filter((path) => isAbsolutePath(path) && path.length <= MAX_PATH)
    .slice(0, MAX_PRODUCT_FILES);
  return {
    ...found,
    name,
    version: cut(found.version),
    publisher: cut(found.publisher),
    installedAt,
    executables,
  };
}

function cut(text: string): string {
  return text.length <= MAX_PRODUCT_TEXT ? text : text.slice(0, MAX_PRODUCT_TEXT);
}
