/**
 * What a copy of a site database holds, checked before the copy is kept
 * (a backup) or put in place (a restore): SQLite's integrity check, which
 * reads every page and index, finds nothing wrong in it,
 * it is a site's database, and of a schema version this Meter can open.
 *
 * @module
 */
import { createClient } from "@libsql/client";
import { integrityProblems } from "../../store/database_copy.ts";
import { tableExists, userVersion } from "../../store/schema_migrations.ts";
import { SITE_SCHEMA_VERSION } from "../site_db.ts";

/** What a long backup or restore is doing, about every second. */
export interface BackupProgress {
  step: "copying" | "checking";
  /** Copying: the bytes written so far; checking: the size of what is checked. */
  bytes: number;
}

export interface BackupContents {
  /** Its schema version (0: from before versions). */
  version: number;
  sessions: number;
  bytes: number;
}

/**
 * Checks the copy at `file`, naming it as `shown` in what goes wrong; the
 * version is checked only when `newestVersion` says so (a backup keeps
 * whatever the site has, a restore only what this Meter opens).
 */
export async function checkBackupContents(
  file: string,
  shown: string,
  newestVersion = Infinity,
  onProgress: (progress: BackupProgress) => void = () => {},
): Promise<BackupContents> {
  const bytes = (await Deno.stat(file)).size;
  let problems: string[];
  try {
    problems = await integrityProblems(file, () => onProgress({ step: "checking", bytes }));
  } catch (error) {
    throw new Error(`${shown} is not a Meter site database: ${(error as Error).message}`);
  }
  if (problems.length > 0) {
    throw new Error(`${shown} is damaged (integrity check: ${problems.slice(0, 3).join("; ")})`);
  }
  const contents = await readContents(file, shown);
  if (contents.version > newestVersion) {
    throw new Error(
      `${shown} was written by a newer Meter (schema version ${contents.version}; this Meter ` +
        `knows up to ${SITE_SCHEMA_VERSION}): restore it with that Meter, or upgrade this one`,
    );
  }
  return contents;
}

async function readContents(file: string, shown: string): Promise<BackupContents> {
  const db = createClient({ url: `file:${file}` });
  try {
    // Sessions are in `session_rows` since schema version 6, in `usage_sessions` before.
    const sessionTable = await tableExists(db, "session_rows")
      ? "session_rows"
      : await tableExists(db, "usage_sessions")
      ? "usage_sessions"
      : undefined;
    if (!sessionTable || !await tableExists(db, "site_meta")) {
      throw new Error(`${shown} is not a Meter site database (it has no usage_sessions)`);
    }
    const sessions = await db.execute(`SELECT count(*) FROM ${sessionTable}`);
    return {
      version: await userVersion(db),
      sessions: Number(sessions.rows[0][0]),
      bytes: (await Deno.stat(file)).size,
    };
  } finally {
    db.close();
  }
}
