/**
 * Who is syncing and what they may touch. The server decides per peer and
 * per document: `none`, `read` or `write`; writes are further limited to
 * changes made by the actors bound to the peer when it enrolled.
 *
 * @module
 */
import { parseDocId, rulesDocId } from "../sync/doc_id.ts";

export type Access = "none" | "read" | "write";

export interface SyncPeer {
  /** Names the peer in sync states and logs, e.g. `client:k3j9x2m1qa`. */
  id: string;
  /** Actor ids whose changes this peer may send. */
  actors: ReadonlySet<string>;
  access(docId: string): Access;
  /** Documents this peer should follow read-only. */
  read: string[];
}

/** An agent writes its own usage and inventory and reads its site's rules. */
export function agentPeer(
  clientId: string,
  actors: ReadonlySet<string>,
  siteCode: string,
): SyncPeer {
  const rules = rulesDocId(siteCode);
  return {
    id: `client:${clientId}`,
    actors,
    read: [rules],
    access(docId) {
      if (docId === rules) return "read";
      const id = parseDocId(docId);
      if ((id?.kind === "usage" || id?.kind === "inventory") && id.client === clientId) {
        return "write";
      }
      return "none";
    },
  };
}
