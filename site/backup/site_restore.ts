/**
 * `meter site restore`: puts a backup in the place of a site's database.
 *
 * Only while no process has the database open: it takes the database's lock
 * file alone (`store/database_lock.ts`), which every opener of a site
 * database holds shared, so a running site (or `meter token create` at that
 * moment) makes it refuse, and no site can start until it is done.
 *
 * The backup is copied beside the database first and the copy checked
 * (`backup_contents.ts`), so the backup file itself is only read, and a
 * damaged, foreign or newer backup is refused before anything is moved. The
 * replaced database is kept whole: it and its write-ahead log are renamed to
 * `<db>.before-restore-<time>` (and `-wal`), its shared-memory file removed,
 * so no stale log is left for SQLite to replay into the restored file.
 *
 * @module
 */
import { basename, dirname, join } from "node:path";
import { lockFileOf, takeDatabaseAlone } from "../../store/database_lock.ts";
import { syncFile } from "../../store/database_copy.ts";
import { SITE_SCHEMA_VERSION } from "../site_db.ts";
import {
  type BackupContents,
  type BackupProgress,
  checkBackupContents,
} from "./backup_contents.ts";

export interface RestoreResult extends BackupContents {
  /** Where the database it replaced is now; `undefined` when there was none. */
  aside?: string;
}

export interface RestoreOptions {
  /** The time in the name the replaced database is kept under. */
  now?: Date;
  /** What it is doing, about every second while the backup is checked. */
  onProgress?: (progress: BackupProgress) => void;
}

/** Restores the backup `from` as the site database `file` (see the module doc). */
export async function restoreSiteDatabase(
  file: string,
  from: string,
  { now = new Date(), onProgress }: RestoreOptions = {},
): Promise<RestoreResult> {
  if (!(await Deno.stat(from).catch(() => undefined))?.isFile) {
    throw new Error(`no backup at ${from}`);
  }
  await Deno.mkdir(dirname(file), { recursive: true });
  using lock = await takeDatabaseAlone(file);
  if (!lock) {
    throw new Error(
      `the database ${file} is open in another process (a running site, or another meter ` +
        `command; it holds ${lockFileOf(file)}): stop the site before restoring`,
    );
  }
  const incoming = join(dirname(file), `.${basename(file)}.${Deno.pid}.restoring`);
  try {
    await Deno.copyFile(from, incoming);
    await Deno.chmod(incoming, 0o600);
    const contents = await checkBackupContents(
      incoming,
      `the backup ${from}`,
      SITE_SCHEMA_VERSION,
      onProgress,
    );
    await syncFile(incoming);
    const aside = await setAside(file, now);
    await Deno.rename(incoming, file);
    return { ...contents, aside };
  } finally {
    for (const suffix of ["", "-wal", "-shm"]) await Deno.remove(incoming + suffix).catch(() => {});
  }
}

/** Moves the database and its log aside; `undefined` when there is no database. */
async function setAside(file: string, now: Date): Promise<string | undefined> {
  if (!await Deno.stat(file).catch(() => undefined)) {
    for (const suffix of ["-wal", "-shm"]) await Deno.remove(file + suffix).catch(() => {});
    return undefined;
  }
  const stamp = now.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  const aside = `${file}.before-restore-${stamp}`;
  await Deno.rename(file, aside);
  await Deno.rename(`${file}-wal`, `${aside}-wal`).catch(() => {});
  await Deno.remove(`${file}-shm`).catch(() => {});
  return aside;
}
