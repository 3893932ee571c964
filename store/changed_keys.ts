/**
 * Which top-level records of a document changed: what materialisation needs
 * to turn only the new records into rows. From the patches Automerge gives
 * when it applies changes, or by diffing two sets of heads.
 *
 * @module
 */
import * as A from "@automerge/automerge";

export interface ChangedKeys {
  /** Keys put (new or overwritten). */
  put: Set<string>;
  /** Keys deleted. */
  deleted: Set<string>;
}

export function changedKeysOf(patches: readonly A.Patch[]): ChangedKeys {
  const put = new Set<string>();
  const deleted = new Set<string>();
  for (const patch of patches) {
    const key = patch.path[0];
    if (typeof key !== "string") continue;
    if (patch.action === "del" && patch.path.length === 1) {
      deleted.add(key);
      put.delete(key);
    } else {
      put.add(key);
      deleted.delete(key);
    }
  }
  return { put, deleted };
}

/** The keys changed between `before` and the document's heads. */
export function changedKeys(doc: A.Doc<unknown>, before: A.Heads): ChangedKeys {
  return changedKeysOf(A.diff(doc, before, A.getHeads(doc)));
}
