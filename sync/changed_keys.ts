/**
 * Which top-level records of a document changed between two sets of heads:
 * what materialisation needs to turn only the new records into rows.
 *
 * @module
 */
import * as A from "@automerge/automerge";

export interface ChangedKeys {
  /** Keys put (new or overwritten) since `before`. */
  put: Set<string>;
  /** Keys deleted since `before`. */
  deleted: Set<string>;
}

export function changedKeys(doc: A.Doc<unknown>, before: A.Heads): ChangedKeys {
  const put = new Set<string>();
  const deleted = new Set<string>();
  for (const patch of A.diff(doc, before, A.getHeads(doc))) {
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
