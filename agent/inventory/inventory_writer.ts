/**
 * Writes an inventory into `inventory/<client>`: a product record is put
 * only when its bytes differ from what the document holds, records of
 * products no longer installed are deleted, and all of it is one Automerge
 * change, or none when nothing changed, so a re-inventory of an unchanged
 * computer sends nothing.
 *
 * @module
 */
import * as A from "@automerge/automerge";
import { inventoryDocId } from "../../sync/doc_id.ts";
import type { DocStore } from "../../sync/doc_store.ts";
import {
  decodeProduct,
  encodeProduct,
  type InstalledProduct,
  isProductKey,
} from "../../sync/inventory_record.ts";
import type { Inventory } from "./inventory_collector.ts";
import { sameBytes } from "../../sync/same_bytes.ts";

export interface InventoryWrite {
  put: number;
  deleted: number;
  /** Product records the document holds after the write. */
  products: number;
}

export async function writeInventory(
  docs: DocStore,
  clientId: string,
  actor: string,
  inventory: Pick<Inventory, "products" | "failedSources">,
): Promise<InventoryWrite> {
  const docId = inventoryDocId(clientId);
  const doc = await docs.load<Record<string, Uint8Array>>(docId, actor) ?? A.init({ actor });
  const puts = new Map<string, Uint8Array>();
  for (const [key, product] of inventory.products) {
    const bytes = encodeProduct(product);
    if (!sameBytes(doc[key], bytes)) puts.set(key, bytes);
  }
  const kept = (key: string) => inventory.failedSources.includes(key.slice(0, key.indexOf("/")));
  const deletes = Object.keys(doc).filter((key) =>
    isProductKey(key) && !inventory.products.has(key) && !kept(key)
  );
  if (puts.size === 0 && deletes.length === 0) {
    return { put: 0, deleted: 0, products: productCount(doc) };
  }
  const next = A.change(doc, "inventory", (d) => {
    for (const [key, bytes] of puts) d[key] = bytes;
    for (const key of deletes) delete d[key];
  });
  await docs.save(docId, next);
  return { put: puts.size, deleted: deletes.length, products: productCount(next) };
}

function productCount(doc: Record<string, unknown>): number {
  return Object.keys(doc).filter(isProductKey).length;
}

/** The products the stored document holds (none before the first inventory). */
export async function readInventory(
  docs: DocStore,
  clientId: string,
): Promise<Map<string, InstalledProduct>> {
  const doc = await docs.load<Record<string, Uint8Array>>(inventoryDocId(clientId));
  const products = new Map<string, InstalledProduct>();
  for (const [key, value] of Object.entries(doc ?? {})) {
    if (isProductKey(key)) products.set(key, decodeProduct(key, value));
  }
  return products;
}
