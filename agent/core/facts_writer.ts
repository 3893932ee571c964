/**
 * Writes a computer's facts into `inventory/<client>` when, and only when,
 * they changed, so an unchanged computer adds no change to its document.
 *
 * @module
 */
import * as A from "@automerge/automerge";
import { type ClientFacts, decodeFacts, encodeFacts, FACTS_KEY } from "../../model/client_facts.ts";
import { inventoryDocId } from "../../model/doc_id.ts";
import type { DocStore } from "../../store/doc_store.ts";

/** Stores the facts if they differ from what the document holds; true if written. */
export async function writeFacts(
  docs: DocStore,
  clientId: string,
  actor: string,
  facts: ClientFacts,
): Promise<boolean> {
  const docId = inventoryDocId(clientId);
  const doc = await docs.load<Record<string, Uint8Array>>(docId, actor) ?? A.init({ actor });
  try {
    const current = doc[FACTS_KEY] ? decodeFacts(doc[FACTS_KEY]) : undefined;
    if (current && JSON.stringify(current) === JSON.stringify(facts)) return false;
    const next = A.change(doc, "facts", (d) => {
      d[FACTS_KEY] = encodeFacts(facts);
    });
    await docs.save(docId, next);
    return true;
  } finally {
    A.free(doc); // loaded for this write only; the change shares its memory
  }
}
