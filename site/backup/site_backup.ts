/**
 * `meter site backup`: a consistent copy of a site's database, taken while
 * the site runs. `VACUUM INTO` (`store/database_copy.ts`) writes one snapshot,
 * the write-ahead log included, into a file beside the target, made `0600`
 * before a byte is in it; the copy is checked (`backup_contents.ts`), forced
 * to disk and only then renamed to the target, so the target is either the
 * whole checked backup or untouched.
 *
 * @module
 */
import { basename, dirname, join, resolve } from "node:path";
import { shareDatabase } from "../../store/database_lock.ts";
import { syncFile, vacuumInto } from "../../store/database_copy.ts";
import {
  type BackupContents,
  type BackupProgress,
  checkBackupContents,
} from "./backup_contents.ts";

export interface BackupOptions {
  /** Replace `target` if it exists. */
  force?: boolean;
  /** What it is doing, about every second while the copy and its check run. */
  onProgress?: (progress: BackupProgress) => void;
}

export interface BackupResult extends BackupContents {
  target: string;
  ms: number;
}

/** Copies the site database `file` to `target` (see the module doc). */
export async function backupSiteDatabase(
  file: string,
  target: string,
  options: BackupOptions = {},
): Promise<BackupResult> {
  const started = performance.now();
  if (await sameFile(target, file)) {
    throw new Error(`${target} is the database itself; back it up to another file`);
  }
  if (!options.force && await exists(target)) {
    throw new Error(`${target} exists already; give --force to replace it`);
  }
  using _lock = await shareDatabase(file);
  const partial = join(dirname(target), `.${basename(target)}.${Deno.pid}.partial`);
  try {
    // Empty and owner-only before VACUUM INTO writes the site's data into it.
    (await Deno.open(partial, { createNew: true, write: true, mode: 0o600 })).close();
    const onProgress = options.onProgress ?? (() => {});
    await vacuumInto(file, partial, (bytes) => onProgress({ step: "copying", bytes }));
    const contents = await checkBackupContents(
      partial,
      `the copy of ${file}`,
      Infinity,
      onProgress,
    );
    await syncFile(partial);
    await Deno.rename(partial, target);
    return { ...contents, target, ms: performance.now() - started };
  } finally {
    await Deno.remove(partial).catch(() => {});
  }
}

/** Whether `target` names the database or one of its own files (`-wal`, `-shm`, `.lock`). */
async function sameFile(target: string, file: string): Promise<boolean> {
  const real = async (path: string) => await Deno.realPath(path).catch(() => resolve(path));
  const database = await real(file);
  const own = [database, `${database}-wal`, `${database}-shm`, `${database}.lock`];
  return own.includes(await real(target));
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}
