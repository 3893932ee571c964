/**
 * Writing one of this site's own record documents (its list of sites below,
 * its agents' credentials) to a wanted state: loaded with the site's actor,
 * changed only where it differs (`changeRecords`), saved, and dropped from
 * the document cache so the next sync serves the new state. The caller holds
 * the site's write lock.
 *
 * @module
 */
import * as A from "@automerge/automerge";
import { changeRecords, type RecordDoc } from "../../model/record_changes.ts";
import type { Store } from "../../store/store.ts";

/** True when the document changed. */
export async function writeOwnRecordDoc(
  site: Store,
  docId: string,
  wanted: ReadonlyMap<string, Uint8Array>,
  message: string,
): Promise<boolean> {
  const stored = await site.docs.load<Record<string, Uint8Array>>(docId, site.actor);
  if (!stored && wanted.size === 0) return false;
  const change = changeRecords(stored ?? A.init<RecordDoc>({ actor: site.actor }), wanted, message);
  if (!change) return false;
  await site.docs.save(docId, change.doc);
  site.cache.delete(docId);
  return true;
}
