/**
 * The subtree of a site below this one, as `known_sites` tells (what the
 * children's lists of sites say): that site and every site under it, through
 * the same child only, so that one child's list cannot graft sites onto
 * another's subtree. Reports restrict themselves to it (`site=`), and a
 * licence counts the subtree of the site it covers.
 *
 * @module
 */
import type { Client } from "../store/db.ts";

/** The codes of `code`'s subtree, `code` first; undefined when it is not a site below this one. */
export async function subtreeBelow(db: Client, code: string): Promise<string[] | undefined> {
  const result = await db.execute({
    sql: `WITH RECURSIVE root AS (
        SELECT code, via_child FROM known_sites WHERE code = ?1 AND via_child <> ''
      ), below(code) AS (
        SELECT code FROM root
        UNION SELECT k.code FROM known_sites k JOIN below b ON k.parent_code = b.code
          WHERE k.via_child = (SELECT via_child FROM root)
      ) SELECT code FROM below`,
    args: [code],
  });
  if (result.rows.length === 0) return undefined;
  const codes = result.rows.map((r) => r.code as string).filter((c) => c !== code);
  return [code, ...codes];
}
