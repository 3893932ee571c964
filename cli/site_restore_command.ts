/**
 * `meter site restore --from FILE`: puts a backup in the place of a site's
 * database while the site is stopped (`site/backup/site_restore.ts` says
 * how), found from the same flags as `meter site` and `meter token create`.
 *
 * @module
 */
import { backupProgress } from "./backup_progress.ts";
import { type Command, stringOption, UsageError } from "./command.ts";
import { humanBytes, humanCount } from "./human_size.ts";
import {
  SITE_DATABASE_HELP,
  SITE_DATABASE_OPTIONS,
  siteDatabaseLocation,
} from "./site_database.ts";

export const siteRestoreCommand: Command = {
  name: "site restore",
  usage: `
Usage: meter site restore --from FILE [options]

Replaces the site's database with the backup FILE (made by 'meter site
backup'). The site must be stopped: a restore is refused while any process
has the database open. The backup is checked first (SQLite's integrity check,
a site's database, a schema version this Meter knows); the database it
replaces is kept beside it as <db>.before-restore-<time>. A backup from an
older Meter is migrated when the site starts.

Options:
  --from FILE       the backup to restore
${SITE_DATABASE_HELP}
  -h, --help        show this help
`,
  options: {
    from: { type: "string" },
    ...SITE_DATABASE_OPTIONS,
  },
  async run(values, positionals) {
    if (positionals.length > 0) throw new UsageError(`unexpected ${positionals.join(" ")}`);
    const from = stringOption(values, "from", true);
    const location = await siteDatabaseLocation(values);
    if (location.file === undefined) {
      throw new Error(
        `the database ${location.db} is on a libSQL server: restore it with the server's own ` +
          `backup; meter site restore replaces a database file`,
      );
    }
    // Loaded here, so that --help needs no permissions and loads nothing.
    const { restoreSiteDatabase } = await import("../site/mod.ts");
    const restored = await restoreSiteDatabase(location.file, from, {
      onProgress: backupProgress(),
    });
    console.log(
      `restored ${from} as ${location.file}: ${humanBytes(restored.bytes)}, ` +
        `${humanCount(restored.sessions, "session")}, schema version ${restored.version}`,
    );
    console.log(
      restored.aside
        ? `the database it replaced is kept at ${restored.aside}`
        : "there was no database there before",
    );
  },
};
