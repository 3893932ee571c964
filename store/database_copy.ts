/**
 * A consistent copy of a live SQLite database, and a check of one.
 *
 * Copying the file is not a backup: committed transactions may still be in
 * its write-ahead log (`-wal`), and a copy taken while the site writes may
 * hold half of a checkpoint. `VACUUM INTO` reads one snapshot in a read
 * transaction of its own, WAL included, and writes it as a new, compact,
 * self-contained file, while writers go on (readers never block them in WAL
 * mode). It runs in a worker so that this thread can report progress.
 *
 * @module
 */
import { createClient } from "@libsql/client";
import type { CopyReply } from "./database_copy_worker.ts";

/** How often the copy's size is reported while it runs. */
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
  const worker = new Worker(new URL("./database_copy_worker.ts", import.meta.url), {
    type: "module",
  });
  const timer = setInterval(() => {
    Deno.stat(target).then((stat) => onProgress(stat.size), () => {});
  }, PROGRESS_MS);
  try {
    const reply = await new Promise<CopyReply>((resolve, reject) => {
      worker.onmessage = ({ data }: MessageEvent<CopyReply>) => resolve(data);
      worker.onerror = (event) => {
        event.preventDefault();
        reject(new Error(`the copy's worker failed: ${event.message}`));
      };
      worker.postMessage({ file, target });
    });
    if (!reply.ok) throw new Error(`cannot copy the database ${file}: ${reply.message}`);
  } finally {
    clearInterval(timer);
    worker.terminate();
  }
}

/**
 * What `PRAGMA integrity_check` finds wrong in the database `file` (none: an
 * empty list); a file that is not a database at all throws.
 */
export async function integrityProblems(file: string): Promise<string[]> {
  const db = createClient({ url: `file:${file}` });
  try {
    const result = await db.execute("PRAGMA integrity_check");
    const lines = result.rows.map((row) => String(row[0]));
    return lines.length === 1 && lines[0] === "ok" ? [] : lines;
  } finally {
    db.close();
  }
}

/** Forces the file's bytes to disk, so a rename after it never names a partial file. */
export async function syncFile(file: string): Promise<void> {
  using handle = await Deno.open(file, { read: true });
  await handle.sync();
}
