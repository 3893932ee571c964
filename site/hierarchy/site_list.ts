/**
 * The hierarchy as this site knows it, for `GET /v1/sites`: this site (with
 * its parent and when it last synced with it), its parent, the child sites
 * registered here (with when each last synced) and the sites below them, as
 * the children's lists tell (they sync with their own parents, not here).
 * `lagSeconds` is how long ago that last sync was: a child far behind is cut
 * off or down.
 *
 * @module
 */
import { KeyValueTable } from "../../store/key_value_table.ts";
import type { Store } from "../../store/store.ts";
import type { Lineage } from "./lineage.ts";

export type SiteRow = {
  code: string;
  parent: string | null;
  /** `self`, `parent`, `child` or `descendant`. */
  relation: string;
  lastSyncAt: string | null;
  lagSeconds: number | null;
};

export const SITE_COLUMNS = ["code", "parent", "relation", "lastSyncAt", "lagSeconds"] as const;

/** The key in `site_meta` of the last successful sync with the parent. */
export const PARENT_LAST_SYNC = "parent_last_sync_at";

export async function listSites(site: Store & Lineage, now = Date.now()): Promise<SiteRow[]> {
  const row = (code: string, parent: string | null, relation: string, at: number | null) => ({
    code,
    parent,
    relation,
    lastSyncAt: at === null ? null : new Date(at).toISOString(),
    lagSeconds: at === null ? null : Math.max(0, Math.round((now - at) / 1000)),
  });
  const parentSync = await new KeyValueTable(site.db, "site_meta").get(PARENT_LAST_SYNC);
  const [parent, grandparent] = site.ancestors;
  const rows: SiteRow[] = [
    row(site.code, parent ?? null, "self", parentSync ? Number(parentSync) : null),
  ];
  if (parent) rows.push(row(parent, grandparent ?? null, "parent", null));
  const children = await site.db.execute(
    "SELECT code, last_sync_at FROM child_sites ORDER BY code",
  );
  for (const child of children.rows) {
    rows.push(
      row(child.code as string, site.code, "child", (child.last_sync_at as number | null) ?? null),
    );
  }
  const below = await site.db.execute(
    `SELECT code, parent_code FROM known_sites
    WHERE via_child <> '' AND code <> via_child ORDER BY code`,
  );
  for (const r of below.rows) {
    rows.push(row(r.code as string, r.parent_code as string, "descendant", null));
  }
  return rows;
}
