/**
 * Product records of inventory documents into `software` and
 * `software_files`: a put record replaces the product's rows, a deleted one
 * removes them. A product's executables go in with one statement (a JSON
 * array read by `json_each`), so a first inventory of thousands of products
 * stays a few thousand statements in its sync transaction.
 *
 * @module
 */
import type * as A from "@automerge/automerge";
import type { ChangedKeys } from "../../store/changed_keys.ts";
import type { InStatement } from "../../store/db.ts";
import { decodeProduct, isProductKey } from "../../model/inventory_record.ts";
import { baseName } from "../../lib/base_name.ts";

export function softwareStatements(
  client: string,
  doc: A.Doc<unknown>,
  changed: ChangedKeys,
): InStatement[] {
  const statements: InStatement[] = [];
  const record = doc as Record<string, unknown>;
  for (const key of changed.put) {
    if (!isProductKey(key)) continue;
    statements.push(...removeProduct(client, key), ...insertProduct(client, key, record[key]));
  }
  for (const key of changed.deleted) {
    if (isProductKey(key)) statements.push(...removeProduct(client, key));
  }
  return statements;
}

function removeProduct(client: string, key: string): InStatement[] {
  return ["software", "software_files"].map((table) => ({
    sql: `DELETE FROM ${table} WHERE client_id = ? AND product_key = ?`,
    args: [client, key],
  }));
}

function insertProduct(client: string, key: string, value: unknown): InStatement[] {
  const product = decodeProduct(key, value);
  const files = product.files.map((file) => {
    const fileName = fileNameOf(file.path);
    const realName = file.realName?.toLowerCase();
    return [file.path, fileName, realName === fileName ? null : realName ?? null, file.sha256];
  });
  return [{
    sql: `INSERT INTO software (client_id, product_key, name, name_lc, version, publisher, source,
      installed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    args: [
      client,
      key,
      product.name,
      product.name.toLowerCase(),
      product.version,
      product.publisher,
      product.source,
      product.installedAt,
    ],
  }, {
    sql: `INSERT OR IGNORE INTO software_files (client_id, product_key, path, file_name, real_name,
      sha256) SELECT ?, ?, value ->> 0, value ->> 1, value ->> 2, value ->> 3 FROM json_each(?)`,
    args: [client, key, JSON.stringify(files)],
  }];
}

/** The lower-cased base name (of a Linux or a Windows path): what a rule's `fileName` glob is compared with. */
function fileNameOf(path: string): string {
  return baseName(path).toLowerCase();
}
