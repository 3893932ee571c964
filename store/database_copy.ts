/**
 * A consistent copy of a live SQLite database, and a check of one.
 *
 * Copying the file is not a backup: committed transactions may still be in
 * its write-ahead log (`-wal`), and a copy taken while the site writes may
 * hold half of a checkpoint. `VACUUM INTO` reads one snapshot in a read
 * transaction of its own, WAL included, and writes it as a new, compact,
 * self-contained file, while writers go on (readers never block them in WAL
 * mode). Both it and `PRAGMA integrity_check` run in a worker
 * (`database_copy_worker.ts`), so that this thread can report progress on a
 * database that takes seconds.
 *
 * @module
 */
import type { CopyReply, CopyRequest } from "./database_copy_worker.ts";

/** How often progress is reported while a copy or check runs. */
const PROGRESS_MS = 1000;

/**
 * Copies the database `file` into `target`, which must be missing or empty,
 * calling `onProgress` with the bytes written so far about every second.
 */
export async function vacuumInto(
  file: string,
  target: string,
  onProgress: (bytes: number) => void = () => {},
): Promise<void> {
  const reply = await inWorker({ op: "vacuum", file, target }, () => {
    Deno.stat(target).then((stat) => onProgress(stat.size), () => {});
  });
  if (!reply.ok) throw new Error(`cannot copy the database ${file}: ${reply.message}`);
}

/**
 * What `PRAGMA integrity_check` finds wrong in the database `file` (none: an
 * empty list), calling `onProgress` about every second while it reads; a
 * file that is not a database at all throws.
 */
export async function integrityProblems(
  file: string,
  onProgress: () => void = () => {},
): Promise<string[]> {
  const reply = await inWorker({ op: "check", file }, onProgress);
  if (!reply.ok) throw new Error(reply.message);
  return reply.problems;
}

async function inWorker(request: CopyRequest, tick: () => void): Promise<CopyReply> {
  const worker = new Worker(new URL("./database_copy_worker.ts", import.meta.url), {
    type: "module",
  });
  const timer = setInterval(tick, PROGRESS_MS);
  try {
    return await new Promise<CopyReply>((resolve, reject) => {
      worker.onmessage = ({ data }: MessageEvent<CopyReply>) => resolve(data);
      worker.onerror = (event) => {
        event.preventDefault();
        reject(new Error(`the database worker failed: ${event.message}`));
      };
      worker.postMessage(request);
    });
  } finally {
    clearInterval(timer);
    worker.terminate();
  }
}

/** Forces the file's bytes to disk, so a rename after it never names a partial file. */
export async function syncFile(file: string): Promise<void> {
  using handle = await Deno.open(file, { read: true });
  await handle.sync();
}
