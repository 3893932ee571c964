/**
 * Who is using a database file, told by an advisory lock on a file beside it
 * (`<database>.lock`): every process that opens a site's database holds a
 * shared lock on it for as long as it keeps the database open, and a restore,
 * which swaps the database file for another, takes it exclusively, so it
 * cannot swap the file under a running site, nor a site start in the middle
 * of a restore.
 *
 * A file of its own, never the database: POSIX drops all of a process's
 * locks on a file when it closes any descriptor of that file, so opening the
 * database file outside SQLite would drop SQLite's own locks
 * (`owner_only_database.ts` tells what follows). The lock is `flock`'s,
 * which the kernel drops with the process: a site killed with SIGKILL leaves
 * no stale lock. The file itself stays; it holds nothing.
 *
 * @module
 */
import type { Client } from "@libsql/client";
import { dirname } from "node:path";

/** The lock file of the database file `file`. */
export function lockFileOf(file: string): string {
  return `${file}.lock`;
}

async function openLockFile(file: string): Promise<Deno.FsFile> {
  const lock = lockFileOf(file);
  try {
    return await Deno.open(lock, { create: true, write: true, mode: 0o600 });
  } catch (error) {
    throw new Error(
      `cannot open the lock file ${lock}: ${(error as Error).message}; ` +
        `it and its folder ${dirname(lock)} must be writable by this user`,
    );
  }
}

/**
 * Takes a shared lock for a process that opens the database; refused while a
 * restore holds it exclusively.
 */
export async function shareDatabase(file: string): Promise<Deno.FsFile> {
  const lock = await openLockFile(file);
  if (await lock.tryLock(false)) return lock;
  lock.close();
  throw new Error(
    `the database ${file} is being restored (${lockFileOf(file)} is locked); ` +
      `start again once 'meter site restore' has finished`,
  );
}

/**
 * Takes the lock alone, for a restore; `undefined` while any process holds
 * the database open.
 */
export async function takeDatabaseAlone(file: string): Promise<Deno.FsFile | undefined> {
  const lock = await openLockFile(file);
  if (await lock.tryLock(true)) return lock;
  lock.close();
  return undefined;
}

/** Makes closing `db` also let go of `lock`, whichever path closes it. */
export function releaseWithClose(db: Client, lock: Deno.FsFile): Client {
  const close = db.close.bind(db);
  db.close = () => {
    close();
    try {
      lock.close();
    } catch {
      // Closed already: a second close of the client.
    }
  };
  return db;
}
