/**
 * Bringing a document of records to a wanted state in one Automerge change:
 * the records whose bytes differ are put, the keys it owns that are no
 * longer wanted are deleted, and when nothing differs there is no change at
 * all, so a sync has nothing to send. Every writer of record documents (the
 * agent's inventory, a site's summaries, lists of sites and credentials)
 * goes through here.
 *
 * @module
 */
import * as A from "@automerge/automerge";
import { sameBytes } from "../lib/same_bytes.ts";

export type RecordDoc = A.Doc<Record<string, Uint8Array>>;

export interface RecordChange {
  doc: RecordDoc;
  put: number;
  deleted: number;
}

/**
 * The document with `wanted` applied, or `undefined` when it already holds
 * exactly that. `owns` says which keys `wanted` speaks for (all by default):
 * others (the `facts` of an inventory) are left alone.
 */
export function changeRecords(
  doc: RecordDoc,
  wanted: ReadonlyMap<string, Uint8Array>,
  message: string,
  owns: (key: string) => boolean = () => true,
): RecordChange | undefined {
  const puts = [...wanted].filter(([key, bytes]) => !sameBytes(doc[key], bytes));
  const gone = Object.keys(doc).filter((key) => owns(key) && !wanted.has(key));
  if (puts.length === 0 && gone.length === 0) return undefined;
  const next = A.change(doc, message, (d) => {
    for (const [key, bytes] of puts) d[key] = bytes;
    for (const key of gone) delete d[key];
  });
  return { doc: next, put: puts.length, deleted: gone.length };
}
