/**
 * The worker that copies a database with `VACUUM INTO` for
 * `database_copy.ts`: SQLite's calls block their thread for the whole copy,
 * and here they block this one, so the caller's thread can still show
 * progress.
 *
 * @module
 */
import Database from "libsql";

export interface CopyRequest {
  file: string;
  target: string;
}

export type CopyReply = { ok: true } | { ok: false; message: string };

const scope = self as unknown as {
  onmessage: ((event: MessageEvent<CopyRequest>) => void) | null;
  postMessage(message: CopyReply): void;
};

scope.onmessage = ({ data: { file, target } }) => {
  try {
    const db = new Database(file);
    try {
      // A writer checkpointing at that moment makes SQLite wait, not fail.
      db.prepare("PRAGMA busy_timeout = 10000").get();
      db.prepare("VACUUM INTO ?").run(target);
    } finally {
      db.close();
    }
    scope.postMessage({ ok: true });
  } catch (error) {
    scope.postMessage({ ok: false, message: (error as Error).message });
  }
};
