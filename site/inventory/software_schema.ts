/**
 * The inventory tables, materialised from `inventory/<client>` documents:
 *
 * - `software`: one row per client and installed product (its key in the
 *   document, name, version, publisher, source, install time), with the
 *   name lower-cased in `name_lc` for searches that ignore case.
 * - `software_files`: the executables each product provides, with the
 *   **lower-cased base name** rules match (`file_name`, a rule's `fileName`
 *   glob compares without regard to case), the lower-cased base name of the
 *   file behind a link where it differs (`real_name`, what `originalFileName`
 *   names; NULL for a plain file, so its index holds the few links only) and
 *   the sha256 once the agent has read the file.
 *
 * Names are lower-cased in JavaScript, not with SQLite's `lower()`, which
 * folds ASCII letters only. `software_files_by_name` and `..._by_real_name`
 * serve `install-base`, `installed-not-run` and the automatic rules, which
 * all start from a file name (for the automatic rules, covering: an index of
 * a WITHOUT ROWID table holds the key too); `software_by_name` serves the
 * `software` report and collections by product.
 *
 * @module
 */
export const softwareSchema = [
  `CREATE TABLE IF NOT EXISTS software (
    client_id TEXT NOT NULL,
    product_key TEXT NOT NULL,
    name TEXT NOT NULL,
    name_lc TEXT NOT NULL,
    version TEXT NOT NULL,
    publisher TEXT NOT NULL,
    source TEXT NOT NULL,
    installed_at INTEGER,
    PRIMARY KEY (client_id, product_key)
  ) WITHOUT ROWID`,
  `CREATE INDEX IF NOT EXISTS software_by_name ON software (name_lc)`,
  `CREATE TABLE IF NOT EXISTS software_files (
    client_id TEXT NOT NULL,
    product_key TEXT NOT NULL,
    path TEXT NOT NULL,
    file_name TEXT NOT NULL,
    real_name TEXT,
    sha256 TEXT,
    PRIMARY KEY (client_id, product_key, path)
  ) WITHOUT ROWID`,
  `CREATE INDEX IF NOT EXISTS software_files_by_name ON software_files (file_name, client_id)`,
  `CREATE INDEX IF NOT EXISTS software_files_by_real_name
    ON software_files (real_name, client_id) WHERE real_name IS NOT NULL`,
  `CREATE INDEX IF NOT EXISTS software_files_by_sha256 ON software_files (sha256)
    WHERE sha256 IS NOT NULL`,
] as const;
