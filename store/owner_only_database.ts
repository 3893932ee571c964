/**
 * Database files only their owner can read: an agent's holds its secret, a
 * site's the hashes of its tokens and everyone's usage, so `openDatabase`
 * makes every embedded one so. A missing file is created `0600` before
 * SQLite opens it, because SQLite gives the write-ahead log and
 * shared-memory files it creates the database file's permissions; files
 * left wider by an older version are narrowed.
 *
 * An existing file is never opened here, only narrowed by name: POSIX drops
 * every lock a process holds on a file when it closes any descriptor of it,
 * and a site opens its database again (its summariser's worker) while it
 * holds it. Without its locks, another process closing the database last
 * (`meter token create --db` beside a running site) would checkpoint and
 * delete the write-ahead log the site is still writing, and every commit
 * after that would be seen by the site alone and lost at its restart.
 *
 * Its folder is created if missing (a first start in a fresh data folder);
 * a folder that cannot be created or written is said in one sentence naming
 * it, rather than SQLite's "unable to open database file".
 *
 * @module
 */
import { dirname } from "node:path";

/** Makes the database file `file` owner-only, creating it and its folder if missing. */
export async function ownerOnlyDatabase(file: string): Promise<void> {
  const folder = dirname(file);
  try {
    await Deno.mkdir(folder, { recursive: true });
  } catch (error) {
    throw new Error(`cannot create the folder ${folder}: ${(error as Error).message}`);
  }
  await createOwnerOnly(file, folder);
  // Not ours to change (another user's file we may still write): leave it.
  for (const suffix of ["", "-wal", "-shm"]) await Deno.chmod(file + suffix, 0o600).catch(() => {});
}

/**
 * Creates the empty file `0600`. `createNew` fails on an existing file
 * without opening it, so a database already there (perhaps held open by this
 * process) is left untouched.
 */
async function createOwnerOnly(file: string, folder: string): Promise<void> {
  try {
    (await Deno.open(file, { createNew: true, write: true, mode: 0o600 })).close();
  } catch (error) {
    if (error instanceof Deno.errors.AlreadyExists) return;
    throw new Error(
      `cannot write the database ${file}: ${(error as Error).message}; ` +
        `it and its folder ${folder} must be writable by this user`,
    );
  }
}
