/**
 * Every site this one knows, in `known_sites`: itself and its ancestors
 * (`via_child` empty), its children (registered here) and every site below
 * them (`via_child` the child they are under), each with its parent and the
 * Automerge actor of its documents.
 *
 * A site learns what is below a child from the child's `sites/<child>`
 * document, which lists the child's whole subtree; a code is known once, so a
 * child that names a site of another subtree, or this site or an ancestor,
 * gains nothing (`INSERT OR IGNORE`). What is below a child is what it may
 * write summaries of, and whose actors' changes it may relay.
 *
 * @module
 */
import type * as A from "@automerge/automerge";
import { encode } from "cbor-x";
import { z } from "zod";
import { decodeRecord } from "../../model/cbor_record.ts";
import type { Client, InStatement } from "../../store/db.ts";
import { siteCodeSchema, sitesDocId } from "../../model/doc_id.ts";
import type { Store } from "../../store/store.ts";
import { writeOwnRecordDoc } from "./own_record_doc.ts";

export const knownSitesSchema = [
  `CREATE TABLE IF NOT EXISTS known_sites (
    code TEXT PRIMARY KEY,
    parent_code TEXT,
    actor TEXT NOT NULL,
    via_child TEXT NOT NULL
  )`,
  `CREATE INDEX IF NOT EXISTS known_sites_by_child ON known_sites (via_child)`,
] as const;

/** A record of a `sites/<site>` document: a site below, with its actor and parent. */
const siteRecord = z.tuple([z.string().max(64), siteCodeSchema]);

export function encodeSiteRecord(actor: string, parent: string): Uint8Array {
  return encode([actor, parent]);
}

/** This site and its ancestors, kept as known so that no site below can take their codes. */
export function selfAndAncestorsStatements(
  code: string,
  actor: string,
  ancestors: readonly string[],
): InStatement[] {
  const lineage = [code, ...ancestors];
  return [
    { sql: "DELETE FROM known_sites WHERE via_child = ''", args: [] },
    ...lineage.map((site, i) => ({
      sql: `INSERT INTO known_sites (code, parent_code, actor, via_child) VALUES (?, ?, ?, '')
        ON CONFLICT (code) DO UPDATE SET parent_code = excluded.parent_code,
          actor = excluded.actor, via_child = ''`,
      args: [site, lineage[i + 1] ?? null, i === 0 ? actor : ""],
    })),
  ];
}

/** A child's `sites/<child>` document: the child's subtree, under it. */
export function sitesDocStatements(child: string, doc: A.Doc<unknown>): InStatement[] {
  const statements: InStatement[] = [{
    sql: "DELETE FROM known_sites WHERE via_child = ? AND code <> ?",
    args: [child, child],
  }];
  for (const [code, value] of Object.entries(doc as Record<string, unknown>)) {
    if (!siteCodeSchema.safeParse(code).success) throw new Error(`${code} is not a site code`);
    const [actor, parent] = decodeRecord(`site ${code}`, value, siteRecord);
    statements.push({
      sql: `INSERT OR IGNORE INTO known_sites (code, parent_code, actor, via_child)
        VALUES (?, ?, ?, ?)`,
      args: [code, parent, actor, child],
    });
  }
  return statements;
}

/** The sites at or below a child, with their actors: what the child may write and relay. */
export async function subtreeOf(
  db: Client,
  child: string,
): Promise<{ codes: Set<string>; actors: Set<string> }> {
  const result = await db.execute({
    sql: "SELECT code, actor FROM known_sites WHERE via_child = ?",
    args: [child],
  });
  return {
    codes: new Set(result.rows.map((r) => r.code as string)),
    actors: new Set(result.rows.map((r) => r.actor as string).filter((a) => a !== "")),
  };
}

/**
 * Brings this site's own `sites/<code>` document up to date with the sites
 * below it, in one change when something changed; returns whether it did.
 */
export async function writeOwnSitesDoc(site: Store): Promise<boolean> {
  const rows = await site.db.execute(
    "SELECT code, parent_code, actor FROM known_sites WHERE via_child <> '' ORDER BY code",
  );
  const wanted = new Map(rows.rows.map((r) => [
    r.code as string,
    encodeSiteRecord(r.actor as string, r.parent_code as string),
  ]));
  return await site.lock.run(() =>
    writeOwnRecordDoc(site, sitesDocId(site.code), wanted, "sites below")
  );
}
