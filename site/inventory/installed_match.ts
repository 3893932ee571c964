/**
 * Where a rule's program is installed: the `(client, product)` pairs of
 * `software_files` whose executable the rule names, as the agent would
 * match a process of it. `fileName` is a glob on the executable's base name
 * or, for a link, the name of the file it leads to (a process's executable is
 * the file behind the link); `originalFileName` a glob on the latter only;
 * both without regard to case (the table keeps names lower-cased). `sha256`
 * compares the file's hash; `version`, when the rule
 * sets one, is a glob on the owning product's version. A rule's language
 * cannot be told from an inventory and is not checked.
 *
 * Each way of matching is its own SELECT joined by UNION, so each uses an
 * index (`software_files_by_name` or `..._by_real_name` for a name, with a
 * glob's fixed prefix as its range; `software_files_by_sha256` for a hash).
 * A glob that starts with a wildcard (`*code`) has no fixed prefix and reads
 * the whole index.
 *
 * @module
 */
import type { InValue } from "@libsql/client";

export interface RuleMatchFields {
  fileName: string | null;
  originalFileName: string | null;
  sha256: string | null;
  version: string;
}

/** A rule's glob (`*`, `?`, nothing else special) as an SQLite GLOB pattern. */
export function sqliteGlob(glob: string, lowerCase = true): string {
  return (lowerCase ? glob.toLowerCase() : glob).replaceAll("[", "[[]");
}

/**
 * A SELECT of the distinct `client_id`s where the rule's program is
 * installed; `undefined` for a rule with nothing to match on. Without a
 * version the branches select client ids alone, so their UNION is the
 * answer with no further step. With `products`, the SELECT gives each
 * `(client_id, product_key)` that holds a matching file instead.
 */
export function installedSql(
  rule: RuleMatchFields,
  { products = false } = {},
): { sql: string; args: InValue[] } | undefined {
  const version = rule.version.trim();
  const anyVersion = /^\**$/.test(version);
  const columns = anyVersion && !products ? "client_id" : "client_id, product_key";
  const branches: string[] = [];
  const args: InValue[] = [];
  const branch = (where: string, value: string) => {
    branches.push(`SELECT ${columns} FROM software_files WHERE ${where}`);
    args.push(value);
  };
  if (rule.fileName) {
    branch("file_name GLOB ?", sqliteGlob(rule.fileName));
    branch("real_name GLOB ? AND real_name IS NOT NULL", sqliteGlob(rule.fileName));
  }
  if (rule.originalFileName) {
    // The file behind a link, or the file itself when it is none.
    branch("real_name GLOB ? AND real_name IS NOT NULL", sqliteGlob(rule.originalFileName));
    branch("file_name GLOB ? AND real_name IS NULL", sqliteGlob(rule.originalFileName));
  }
  if (rule.sha256) branch("sha256 = ?", rule.sha256.toLowerCase());
  if (branches.length === 0) return undefined;
  const matched = branches.join(" UNION ");
  if (anyVersion) return { sql: matched, args };
  return {
    sql: `SELECT DISTINCT m.client_id${products ? ", m.product_key" : ""} FROM (${matched}) m
      JOIN software s
      ON s.client_id = m.client_id AND s.product_key = m.product_key
      WHERE lower(s.version) GLOB ?`,
    args: [...args, sqliteGlob(version)],
  };
}
