/**
 * A lock between processes on a file, for test caches that several vitest
 * workers may build at once: the first takes the lock and builds, the others
 * wait and then find the work done.
 *
 * It is an advisory `flock` on the file rather than a file that exists while
 * held, so a worker killed while building leaves no stale lock behind: the
 * kernel drops the lock with the process.
 *
 * @module
 */
import { dirname } from "node:path";

/** Runs `work` while holding an exclusive lock on `path` (created if missing). */
export async function withFileLock<T>(path: string, work: () => Promise<T>): Promise<T> {
  await Deno.mkdir(dirname(path), { recursive: true });
  // Each call opens the file anew: flock locks belong to the open file, so two
  // calls in one process exclude each other too.
  using file = await Deno.open(path, { create: true, write: true });
  await file.lock(true);
  return await work();
}
