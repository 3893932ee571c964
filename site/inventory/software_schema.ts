/**
 * The inventory tables, materialised from `inventory/<client>` documents:
 *
 * - `software`: one row per client and installed product (its key in the
 *   document, name, version, publisher, source, install time).
 * - `software_files`: the executables each product provides, with the
 *   **lower-cased base name** rules match (`file_name`, a rule's `fileName`
 *   glob compares without regard to case) and the sha256 once the agent has
 *   read the file.
 *
 * `software_files_by_name` serves `install-base`, `installed-not-run` and
 * the automatic rules, which all start from a file name; `software_by_name`
 * serves the `software` report and collections by product.
 *
 * @module
 */
export const softwareSchema = [
  `CREATE TABLE IF NOT EXISTS software (
    client_id TEXT NOT NULL,
    product_key TEXT NOT NULL,
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    publisher TEXT NOT NULL,
    source TEXT NOT NULL,
    installed_at INTEGER,
    PRIMARY KEY (client_id, product_key)
  ) WITHOUT ROWID`,
  `CREATE INDEX IF NOT EXISTS software_by_name ON software (name)`,
  `CREATE TABLE IF NOT EXISTS software_files (
    client_id TEXT NOT NULL,
    product_key TEXT NOT NULL,
    path TEXT NOT NULL,
    file_name TEXT NOT NULL,
    sha256 TEXT,
    PRIMARY KEY (client_id, product_key, path)
  ) WITHOUT ROWID`,
  `CREATE INDEX IF NOT EXISTS software_files_by_name ON software_files (file_name, client_id)`,
  `CREATE INDEX IF NOT EXISTS software_files_by_sha256 ON software_files (sha256)
    WHERE sha256 IS NOT NULL`,
] as const;
