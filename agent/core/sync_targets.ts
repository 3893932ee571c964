/**
 * What an agent syncs: every usage document it keeps and its inventory,
 * which it writes, and the documents its site says to follow, which it
 * reads (its site's rules).
 *
 * @module
 */
import { inventoryDocId } from "../../model/doc_id.ts";
import type { DocStore } from "../../store/doc_store.ts";
import type { SyncTarget } from "../../sync/mod.ts";
import type { Enrolment } from "./enrolment.ts";

export async function agentSyncTargets(
  docs: DocStore,
  { clientId, actor, read }: Pick<Enrolment, "clientId" | "actor" | "read">,
): Promise<SyncTarget[]> {
  const written = await docs.list(`usage/${clientId}/`);
  return [
    ...written.map((d): SyncTarget => ({ docId: d.docId, access: "write" })),
    { docId: inventoryDocId(clientId), access: "write", actor },
    ...read.map((docId): SyncTarget => ({ docId, access: "read" })),
  ];
}
