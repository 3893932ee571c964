/**
 * The worker of `database_copy.ts`: it copies a database with `VACUUM INTO`
 * and checks one with `PRAGMA integrity_check`. SQLite's calls block their
 * thread for the whole run, which on a large database is seconds; here they
 * block this one, so the caller's thread can still show progress.
 *
 * @module
 */
import Database from "libsql";

export type CopyRequest =
  | { op: "vacuum"; file: string; target: string }
  | { op: "check"; file: string };

export type CopyReply = { ok: true; problems: string[] } | { ok: false; message: string };

const scope = self as unknown as {
  onmessage: ((event: MessageEvent<CopyRequest>) => void) | null;
  postMessage(message: CopyReply): void;
};

scope.onmessage = ({ data }) => {
  try {
    const db = new Database(data.file);
    try {
      // A writer checkpointing at that moment makes SQLite wait, not fail.
      db.prepare("PRAGMA busy_timeout = 10000").get();
      scope.postMessage({ ok: true, problems: run(db, data) });
    } finally {
      db.close();
    }
  } catch (error) {
    scope.postMessage({ ok: false, message: (error as Error).message });
  }
};

function run(db: Database.Database, request: CopyRequest): string[] {
  if (request.op === "vacuum") {
    db.prepare("VACUUM INTO ?").run(request.target);
    return [];
  }
  const rows = db.prepare("PRAGMA integrity_check").all() as Record<string, unknown>[];
  const lines = rows.map((row) => String(Object.values(row)[0]));
  return lines.length === 1 && lines[0] === "ok" ? [] : lines;
}
