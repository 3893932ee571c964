/**
 * The database of a site that already exists, found from the flags
 * `meter site` takes (`--db`, `--data-dir`, `--code`, `--config`), for the
 * commands that work in it directly (`meter token`).
 *
 * Such a command must never create a database: one made because it was run
 * from another folder, or with another `--code`, is one the running site has
 * never heard of, and a token made in it works nowhere. So a missing file is
 * refused, naming the path looked at and how to point at the site's.
 *
 * @module
 */
import { resolve } from "node:path";
import type { Client } from "../store/db.ts";
import { stringOption, type Values } from "./command.ts";

/** The flags that find a site's database, for a command's options. */
export const SITE_DATABASE_OPTIONS = {
  db: { type: "string" },
  code: { type: "string" },
  "data-dir": { type: "string" },
  config: { type: "string" },
} as const;

export const SITE_DATABASE_HELP =
  `  --db URL          the site's database (default: as 'meter site' would use)
  --code CODE       the site code, to find the default database (default S01)
  --data-dir DIR    the site's data folder (default .meter)
  --config FILE     the site's config file, to find its database`;

/** True when any of the flags above was given. */
export function siteDatabaseGiven(values: Values): boolean {
  return Object.keys(SITE_DATABASE_OPTIONS).some((name) => values[name] !== undefined);
}

/** Where the site's database is, as `meter site` finds it from the same flags. */
export interface SiteDatabaseLocation {
  /** The URL or path `meter site` would open. */
  db: string;
  dbAuthToken?: string;
  /** The embedded file; `undefined` for a libSQL server. */
  file?: string;
}

/** The site's database from the flags, as `meter site` would find it. */
export async function siteDatabaseLocation(values: Values): Promise<SiteDatabaseLocation> {
  // Loaded here, so that --help needs no permissions and loads nothing.
  const { loadSiteConfig } = await import("../site/mod.ts");
  const { localDatabaseFile } = await import("../store/db.ts");
  const config = await loadSiteConfig(stringOption(values, "config"), {
    db: stringOption(values, "db"),
    code: stringOption(values, "code"),
    dataDir: stringOption(values, "data-dir"),
  });
  return { db: config.db, dbAuthToken: config.dbAuthToken, file: localDatabaseFile(config.db) };
}

/** Says, naming the path looked at, that there is no site database there. */
export function missingSiteDatabase(file: string, why = "", otherWay = ""): Error {
  return new Error(
    `no site database at ${resolve(file)}${why}; point at the site's with --db FILE (or the ` +
      `--data-dir, --code or --config it was started with)${otherWay}`,
  );
}

/** Opens the site's existing database, or says why it will not. */
export async function openExistingSiteDatabase(values: Values): Promise<Client> {
  // Loaded here, so that --help needs no permissions and loads nothing.
  const { openSiteDatabase } = await import("../site/mod.ts");
  const { shownDatabaseUrl } = await import("../store/db.ts");
  const code = stringOption(values, "code");
  const config = await siteDatabaseLocation(values);
  const file = config.file;
  if (file !== undefined && !siteDatabaseExists(file)) {
    throw missingSiteDatabase(
      file,
      ", and a new one would be unknown to the running site",
      ", or work over its API: --site URL --token-file ADMIN_TOKEN_FILE",
    );
  }
  const db = await openSiteDatabase(config.db, config.dbAuthToken);
  if (code !== undefined) await checkCode(db, shownDatabaseUrl(config.db), code);
  return db;
}

/** Whether the database file is there. */
export function siteDatabaseExists(file: string): boolean {
  try {
    return Deno.statSync(file).isFile;
  } catch {
    return false;
  }
}

/** A `--code` that is not the database's own is a mistake about which site this is. */
async function checkCode(db: Client, path: string, code: string): Promise<void> {
  const { KeyValueTable } = await import("../store/key_value_table.ts");
  const stored = await new KeyValueTable(db, "site_meta").get("code");
  if (stored === undefined || stored === code) return;
  db.close();
  throw new Error(
    `the database ${path} belongs to site ${stored}, not ${code}; ` +
      `give --code ${stored}, or the other site's --db`,
  );
}
