/**
 * `meter site backup --to FILE`: a consistent copy of a site's database,
 * taken while the site runs (`site/backup/site_backup.ts` says how), found
 * from the same flags as `meter site` and `meter token create`.
 *
 * @module
 */
import { backupProgress } from "./backup_progress.ts";
import { type Command, stringOption, UsageError } from "./command.ts";
import { humanBytes, humanCount, humanSeconds } from "./human_size.ts";
import {
  missingSiteDatabase,
  SITE_DATABASE_HELP,
  SITE_DATABASE_OPTIONS,
  siteDatabaseExists,
  siteDatabaseLocation,
} from "./site_database.ts";

export const siteBackupCommand: Command = {
  name: "site backup",
  usage: `
Usage: meter site backup --to FILE [options]

Copies the site's database to FILE while the site runs: one consistent
snapshot, the write-ahead log included, checked with SQLite's integrity check
and readable by its owner only (0600). Copying the .db file alone is not a
backup: committed data may still be in its -wal file.

Options:
  --to FILE         where to write the backup (refused if it exists)
  --force           replace FILE if it exists
${SITE_DATABASE_HELP}
  -h, --help        show this help

A site on a libSQL server (--db libsql://, http(s)://) is backed up with the
server's own backup. Put a backup back with 'meter site restore'.
`,
  options: {
    to: { type: "string" },
    force: { type: "boolean" },
    ...SITE_DATABASE_OPTIONS,
  },
  async run(values, positionals) {
    if (positionals.length > 0) throw new UsageError(`unexpected ${positionals.join(" ")}`);
    const target = stringOption(values, "to", true);
    const location = await siteDatabaseLocation(values);
    if (location.file === undefined) {
      throw new Error(
        `the database ${location.db} is on a libSQL server: use the server's own backup; ` +
          `meter site backup copies a database file`,
      );
    }
    if (!siteDatabaseExists(location.file)) throw missingSiteDatabase(location.file);
    // Loaded here, so that --help needs no permissions and loads nothing.
    const { backupSiteDatabase } = await import("../site/mod.ts");
    const backup = await backupSiteDatabase(location.file, target, {
      force: values.force === true,
      onProgress: backupProgress(),
    });
    console.log(
      `backed up ${location.file} to ${target}: ${humanBytes(backup.bytes)}, ` +
        `${humanCount(backup.sessions, "session")}, schema version ${backup.version}, ` +
        `in ${humanSeconds(backup.ms)}`,
    );
  },
};
