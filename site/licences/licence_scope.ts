/**
 * Which sites a licence's position adds up here: the subtree of the site it
 * covers, as far as this site knows it. A licence that covers this site or
 * an ancestor counts this site and every site below it; one that covers a
 * site below counts that site's subtree; one that covers another branch
 * counts nothing here.
 *
 * @module
 */
import type { Client } from "../../store/db.ts";
import type { Licence } from "../../model/licence.ts";
import { subtreeBelow } from "../site_subtree.ts";

export interface Place {
  db: Client;
  /** This site's code. */
  code: string;
  ancestors: readonly string[];
}

/** Whether the licence counts this site's own clients. */
export function coversHere(place: Place, licence: Pick<Licence, "coversSite">): boolean {
  return licence.coversSite === place.code || place.ancestors.includes(licence.coversSite);
}

/** The codes of the sites the licence counts here; empty when none. */
export async function coveredSites(place: Place, licence: Pick<Licence, "coversSite">) {
  if (coversHere(place, licence)) {
    const below = await place.db.execute(
      "SELECT code FROM known_sites WHERE via_child <> '' ORDER BY code",
    );
    return [place.code, ...below.rows.map((row) => row.code as string)];
  }
  return await subtreeBelow(place.db, licence.coversSite) ?? [];
}

/**
 * This site's place as its database tells (its ancestors are the sites known
 * with no child between), for code that is given only the database.
 */
export async function placeOf(db: Client, code: string): Promise<Place> {
  const result = await db.execute({
    sql: "SELECT code FROM known_sites WHERE via_child = '' AND code <> ?",
    args: [code],
  });
  return { db, code, ancestors: result.rows.map((row) => row.code as string) };
}
