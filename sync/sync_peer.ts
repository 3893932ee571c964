/**
 * Who is syncing and what they may touch. The server decides per peer and
 * per document: `none`, `read` or `write`; writes are further limited to
 * changes made by the actors bound to the peer when it enrolled.
 *
 * @module
 */
import { licencesDocId, parseDocId, rulesDocId } from "../model/doc_id.ts";

export type Access = "none" | "read" | "write";

export interface SyncPeer {
  /** Names the peer in sync states and logs, e.g. `client:k3j9x2m1qa`. */
  id: string;
  /** Actor ids whose changes this peer may send. */
  actors: ReadonlySet<string>;
  access(docId: string): Access;
  /** Documents this peer should follow read-only. */
  read: string[];
  /** What to add to the peer's times to put them on this site's clock (`clock_offset.ts`). */
  clockCorrectionMs?: number;
  /** For an agent of this site: the sites whose rules it follows, so may name in its usage. */
  ruleSites?: ReadonlySet<string>;
  /**
   * How the peer was made, so that another thread can make it again
   * (`access` is a function, which a message cannot carry). Set by the
   * functions below; {@linkcode peerOf} turns it back into the peer.
   */
  spec?: PeerSpec;
}

/** The arguments of one of the functions below, named by its kind. */
export type PeerSpec =
  | {
    kind: "agent";
    clientId: string;
    actors: ReadonlySet<string>;
    siteCode: string;
    ancestors: readonly string[];
  }
  | { kind: "fallback-agent"; clientId: string; actors: ReadonlySet<string> }
  | {
    kind: "child-site";
    code: string;
    subtree: { codes: ReadonlySet<string>; actors: ReadonlySet<string> };
    siteCode: string;
    ancestors: readonly string[];
  };

/** The peer a {@linkcode PeerSpec} describes. */
export function peerOf(spec: PeerSpec): SyncPeer {
  switch (spec.kind) {
    case "agent":
      return agentPeer(spec.clientId, spec.actors, spec.siteCode, spec.ancestors);
    case "fallback-agent":
      return fallbackAgentPeer(spec.clientId, spec.actors);
    case "child-site":
      return childSitePeer(spec.code, spec.subtree, spec.siteCode, spec.ancestors);
  }
}

/**
 * The rules documents a site's agents and child sites follow: its own, then
 * its ancestors', nearest first (their rules with `applyToChildSites`
 * apply here too).
 */
export function followedRules(siteCode: string, ancestors: readonly string[]): string[] {
  return [siteCode, ...ancestors].map(rulesDocId);
}

/**
 * An agent writes its own usage and inventory, and reads the rules of its
 * site and of the site's ancestors.
 */
export function agentPeer(
  clientId: string,
  actors: ReadonlySet<string>,
  siteCode: string,
  ancestors: readonly string[] = [],
): SyncPeer {
  const read = followedRules(siteCode, ancestors);
  return {
    id: `client:${clientId}`,
    actors,
    read,
    ruleSites: new Set([siteCode, ...ancestors]),
    spec: { kind: "agent", clientId, actors, siteCode, ancestors },
    access(docId) {
      if (read.includes(docId)) return "read";
      const id = parseDocId(docId);
      if ((id?.kind === "usage" || id?.kind === "inventory") && id.client === clientId) {
        return "write";
      }
      return "none";
    },
  };
}

/**
 * The licences documents a child site follows: its parent's and the
 * parent's ancestors', whose licences may cover it. Agents never see them:
 * a licence's price and quantity are no business of a computer.
 */
export function followedLicences(siteCode: string, ancestors: readonly string[]): string[] {
  return [siteCode, ...ancestors].map(licencesDocId);
}

/**
 * A child site reads the rules and licences of this site and of its
 * ancestors, and passes the rules on to its own agents and children. It writes its own `sites/<code>`
 * document (the sites below it), and the summary and agents' credentials
 * documents of every site in its subtree, its own and those it relays, with
 * changes made by those sites' actors.
 */
export function childSitePeer(
  code: string,
  subtree: { codes: ReadonlySet<string>; actors: ReadonlySet<string> },
  siteCode: string,
  ancestors: readonly string[],
): SyncPeer {
  const read = [
    ...followedRules(siteCode, ancestors),
    ...followedLicences(siteCode, ancestors),
  ];
  return {
    id: `site:${code}`,
    actors: subtree.actors,
    read,
    spec: { kind: "child-site", code, subtree, siteCode, ancestors },
    access(docId) {
      if (read.includes(docId)) return "read";
      const id = parseDocId(docId);
      if (id?.kind === "sites" && id.site === code) return "write";
      if (id?.kind === "summary" && subtree.codes.has(id.site)) return "write";
      if (id?.kind === "clients" && subtree.codes.has(id.site)) return "write";
      return "none";
    },
  };
}

/**
 * An agent of a site below, whose own site is away: it may leave its usage
 * documents here, and nothing else (it keeps the rules it has; its inventory
 * waits for its own site). The rules its sessions name are checked by its
 * own site, which counts them.
 */
export function fallbackAgentPeer(clientId: string, actors: ReadonlySet<string>): SyncPeer {
  return {
    id: `client:${clientId}`,
    actors,
    read: [],
    spec: { kind: "fallback-agent", clientId, actors },
    access(docId) {
      const id = parseDocId(docId);
      return id?.kind === "usage" && id.client === clientId ? "write" : "none";
    },
  };
}
