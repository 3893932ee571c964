/**
 * The sha256 of each executable the inventory lists, computed lazily: a hash
 * is kept in the agent's database by path with the file's (device, inode,
 * size, mtime), so a re-inventory reads only files that changed, and each
 * run reads at most a budget of bytes. A first inventory on a computer with
 * gigabytes of programs is sent at once, with the hashes it could not afford
 * yet left `null`; the following runs fill them in.
 *
 * @module
 */
import type { Client } from "../../../store/db.ts";
import { fileKey, sha256OfOpenFile } from "../../../lib/file_hash.ts";

export const executableHashesSchema = [
  `CREATE TABLE IF NOT EXISTS executable_hashes (
    path TEXT PRIMARY KEY,
    file_key TEXT NOT NULL,
    sha256 TEXT NOT NULL
  )`,
] as const;

export interface HashRun {
  hashes: Map<string, string | null>;
  /** Files read this run. */
  filesRead: number;
  bytesRead: number;
  /** Files left without a hash for a later run. */
  pending: number;
}

export class ExecutableHashes {
  readonly #db: Client;
  readonly #budgetBytes: number;
  /** One read buffer for every file: files are hashed one after another. */
  readonly #buffer = new Uint8Array(256 * 1024);

  /** `budgetBytes`: the most bytes one run reads (default 256 MB). */
  constructor(db: Client, budgetBytes = 256 * 1024 * 1024) {
    this.#db = db;
    this.#budgetBytes = budgetBytes;
  }

  /** Hashes of `paths`, from the cache where the file is unchanged. */
  async hashAll(paths: Iterable<string>): Promise<HashRun> {
    const cached = await this.#cached();
    const run: HashRun = { hashes: new Map(), filesRead: 0, bytesRead: 0, pending: 0 };
    const fresh: [string, string, string][] = [];
    for (const path of paths) {
      if (run.hashes.has(path)) continue;
      const found = await this.#hashOne(path, cached.get(path), run);
      run.hashes.set(path, found?.sha256 ?? null);
      if (found?.read) fresh.push([path, found.key, found.sha256]);
    }
    await this.#store(fresh, run.hashes);
    return run;
  }

  async #hashOne(
    path: string,
    cached: { key: string; sha256: string } | undefined,
    run: HashRun,
  ): Promise<{ key: string; sha256: string; read: boolean } | undefined> {
    let file: Deno.FsFile;
    try {
      file = await Deno.open(path);
    } catch {
      return undefined;
    }
    try {
      const info = await file.stat();
      const key = fileKey(info);
      if (cached?.key === key) return { key, sha256: cached.sha256, read: false };
      // A run always reads one file, so a program larger than the budget is hashed too.
      if (run.bytesRead > 0 && run.bytesRead + info.size > this.#budgetBytes) {
        run.pending++;
        return undefined;
      }
      const sha256 = await sha256OfOpenFile(file, this.#buffer);
      run.filesRead++;
      run.bytesRead += info.size;
      return sha256 === null ? undefined : { key, sha256, read: true };
    } catch {
      return undefined;
    } finally {
      file.close();
    }
  }

  async #cached(): Promise<Map<string, { key: string; sha256: string }>> {
    const rows = await this.#db.execute("SELECT path, file_key, sha256 FROM executable_hashes");
    return new Map(rows.rows.map((row) => [
      String(row.path),
      { key: String(row.file_key), sha256: String(row.sha256) },
    ]));
  }

  /** Keeps the new hashes and forgets paths no longer inventoried, so the table stays bounded. */
  async #store(fresh: [string, string, string][], current: Map<string, unknown>): Promise<void> {
    const known = await this.#db.execute("SELECT path FROM executable_hashes");
    const gone = known.rows.map((row) => String(row.path)).filter((path) => !current.has(path));
    await this.#db.batch([
      ...gone.map((path) => ({
        sql: "DELETE FROM executable_hashes WHERE path = ?",
        args: [path],
      })),
      ...fresh.map(([path, key, sha256]) => ({
        sql: "INSERT OR REPLACE INTO executable_hashes (path, file_key, sha256) VALUES (?, ?, ?)",
        args: [path, key, sha256],
      })),
    ], "write");
  }
}
