/**
 * The `software` report: the inventory itself, one row per computer and
 * installed product, filtered by product name, version and publisher (globs,
 * any case), source and computer (client id or host name), in pages of
 * `limit` rows (`offset` skips), ordered by computer then product.
 *
 * @module
 */
import { z } from "zod";
import type { InValue } from "@libsql/client";
import { PRODUCT_SOURCES } from "../../model/product_source.ts";
import { sqliteGlob } from "../inventory/installed_match.ts";
import { iso } from "./figures.ts";
import { jsonRows } from "./json_rows.ts";
import { formatParam } from "./report_params.ts";
import type { Report } from "./report.ts";

const glob = (what: string) =>
  z.string().trim().min(1).max(255).optional().describe(
    `a glob on the ${what} (* and ?, any case)`,
  );
const count = (what: string, max: number) =>
  z.string().regex(/^\d{1,6}$/, `${what} is a whole number`).transform(Number)
    .refine((n) => n <= max, `${what} is at most ${max}`).optional();

const query = z.object({
  product: glob("product name"),
  version: glob("version"),
  publisher: glob("publisher"),
  source: z.enum(PRODUCT_SOURCES).optional().describe("dpkg, rpm, flatpak, snap or desktop"),
  client: z.string().max(255).optional().describe("a client id or host name"),
  limit: count("limit", 100_000).describe("rows per page (default 10000, at most 100000)"),
  offset: count("offset", 999_999).describe("rows to skip (default 0)"),
  format: formatParam,
}).strict();

const row = z.object({
  clientId: z.string(),
  hostName: z.string(),
  product: z.string(),
  version: z.string(),
  publisher: z.string(),
  source: z.string(),
  installedAt: z.string().nullable(),
  executables: z.string(),
});

export const softwareReport: Report<typeof query, typeof row> = {
  name: "software",
  summary: "the inventory: installed products per computer, filterable, in pages",
  query,
  row,
  freshness: "live",
  async run({ db }, params) {
    const { where, args } = filters(params);
    const limit = params.limit ?? 10_000;
    const offset = params.offset ?? 0;
    const found = await jsonRows(
      db,
      ["client_id", "host_name", "name", "version", "publisher", "source", "installed_at", "files"],
      `SELECT s.client_id, c.host_name, s.product_key, s.name, s.version, s.publisher, s.source,
        s.installed_at, (
          SELECT group_concat(path, ' ') FROM software_files f
          WHERE f.client_id = s.client_id AND f.product_key = s.product_key
        ) AS files
      FROM software s LEFT JOIN clients c ON c.client_id = s.client_id
      ${where} ORDER BY s.client_id, s.product_key LIMIT ? OFFSET ?`,
      [...args, limit, offset],
      "client_id, product_key",
    );
    const rows = found.map((r) => ({
      clientId: r.client_id as string,
      hostName: (r.host_name as string | null) ?? "",
      product: r.name as string,
      version: r.version as string,
      publisher: r.publisher as string,
      source: r.source as string,
      installedAt: iso(r.installed_at as number | null),
      executables: (r.files as string | null) ?? "",
    }));
    const { format: _format, ...shown } = params;
    return { parameters: { ...shown, limit, offset }, rows };
  },
};

function filters(params: z.output<typeof query>): { where: string; args: InValue[] } {
  const clauses: string[] = [];
  const args: InValue[] = [];
  const globs: [string | undefined, string][] = [
    [params.product, "s.name_lc"],
    // SQLite's lower() folds ASCII only, which versions and most publishers are.
    [params.version, "lower(s.version)"],
    [params.publisher, "lower(s.publisher)"],
  ];
  for (const [value, column] of globs) {
    if (value === undefined) continue;
    clauses.push(`${column} GLOB ?`);
    args.push(sqliteGlob(value));
  }
  if (params.source) {
    clauses.push("s.source = ?");
    args.push(params.source);
  }
  if (params.client) {
    // As a set of client ids, so that the primary key (client first) finds the rows.
    clauses.push(
      "s.client_id IN (SELECT client_id FROM clients WHERE client_id = ? OR host_name = ?)",
    );
    args.push(params.client, params.client);
  }
  return { where: clauses.length ? `WHERE ${clauses.join(" AND ")}` : "", args };
}
