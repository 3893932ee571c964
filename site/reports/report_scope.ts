/**
 * The `site` parameter of reports: by default a report covers this site's
 * own clients and every site below it; `site=<code>` restricts it to that
 * site and the sites below it (`site=<this site's code>` is the default).
 * The subtree comes from `known_sites` (what the children's lists tell); its
 * clients from `descendant_clients` (what their summaries named).
 *
 * @module
 */
import type { InValue } from "@libsql/client";
import { siteCodeSchema } from "../../model/doc_id.ts";
import { badRequest } from "../http/api_error.ts";
import type { ReportSources } from "./report_sources.ts";
import { subtreeBelow } from "../site_subtree.ts";

export const siteParam = siteCodeSchema.optional().describe(
  "restrict to this site code and the sites below it (default: this site and all below)",
);

/** What a report covers: everything here, or a subtree below. */
export interface Scope {
  /** The site asked for; undefined for everything this site knows. */
  code?: string;
  /** The sites of the subtree, `code` first. */
  codes: string[];
}

/** The scope of a `site` parameter; 400 for a site that is not this one or below it. */
export async function scopeOf(
  { db, code: here }: Pick<ReportSources, "db" | "code">,
  code: string | undefined,
): Promise<Scope> {
  if (code === undefined || code === here) return { codes: [] };
  const codes = await subtreeBelow(db, code);
  if (codes === undefined) {
    throw badRequest(
      `invalid query: site: ${code} is not this site or a site below it; see GET /v1/sites`,
      "invalid_input",
    );
  }
  return { code, codes };
}

/**
 * An SQL condition on a `client_id` column for the scope's clients, and its
 * arguments; `TRUE` when the scope is everything.
 */
export function clientsIn(scope: Scope, column = "client_id"): { sql: string; args: InValue[] } {
  if (scope.code === undefined) return { sql: "1", args: [] };
  return {
    sql: `${column} IN (SELECT client_id FROM descendant_clients
      WHERE site_code IN (SELECT value FROM json_each(?)))`,
    args: [JSON.stringify(scope.codes)],
  };
}

/** The scope as a report's `parameters` echo it: nothing for the default. */
export function scopeParameters(scope: Scope): { site?: string } {
  return scope.code === undefined ? {} : { site: scope.code };
}
