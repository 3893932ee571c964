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
import { inventoryDocId } from "../../../model/doc_id.ts";
import type { DocStore } from "../../../store/doc_store.ts";
import {
  decodeProduct,
  encodeProduct,
  type InstalledProduct,
  isProductKey,
} from "../../../model/inventory_record.ts";
import type { Inventory } from "./inventory_collector.ts";
import { changeRecords } from "../../../model/record_changes.ts";

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
  const wanted = new Map([...inventory.products].map(([key, p]) => [key, encodeProduct(p)]));
  // Product records only (not `facts`), and not those of a source that failed this run.
  const kept = (key: string) => inventory.failedSources.includes(key.slice(0, key.indexOf("/")));
  try {
    const change = changeRecords(doc, wanted, "inventory", (k) => isProductKey(k) && !kept(k));
    if (!change) return { put: 0, deleted: 0, products: productCount(doc) };
    await docs.save(docId, change.doc);
    return { put: change.put, deleted: change.deleted, products: productCount(change.doc) };
  } finally {
    // Loaded for this write only (an inventory is hours apart): its memory
    // goes now, not whenever V8 collects it. A change shares its memory.
    A.free(doc);
  }
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
  if (doc) A.free(doc);
  return products;
}
