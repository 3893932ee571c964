/**
 * Transactions a site's worker thread (the summariser, a sync thread) has
 * the site's thread store for it: the site's connection stays the
 * database's one writer, since writes from a worker's own connection made
 * the site's fail with `SQLITE_BUSY` under load. The worker sends `store`
 * with an id and its statements; the site's thread stores them under its
 * write lock and answers `stored` with the same id, and the error if any.
 *
 * @module
 */
import type { Client, InStatement } from "../store/db.ts";
import type { Mutex } from "../lib/mutex.ts";

export interface StoreMessage {
  type: "store";
  id: number;
  statements: InStatement[];
}

export interface StoredMessage {
  type: "stored";
  id: number;
  error?: string;
}

/** The worker's side: transactions sent, waiting for the site's answer. */
export class WorkerTransactions {
  readonly #waiting = new Map<number, { resolve(): void; reject(error: Error): void }>();
  readonly #post: (message: StoreMessage) => void;
  #nextId = 1;

  constructor(post: (message: StoreMessage) => void) {
    this.#post = post;
  }

  /** Has the site's thread store `statements` in one transaction. */
  store(statements: InStatement[]): Promise<void> {
    const id = this.#nextId++;
    return new Promise<void>((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      this.#post({ type: "store", id, statements });
    });
  }

  /** The site's answer to one of them. */
  stored({ id, error }: StoredMessage): void {
    const waiting = this.#waiting.get(id);
    this.#waiting.delete(id);
    if (error === undefined) waiting?.resolve();
    else waiting?.reject(new Error(error));
  }
}

/** The site's side: stores a worker's transaction under the write lock, and says how it went. */
export async function storeForWorker(
  db: Client,
  lock: Pick<Mutex, "run">,
  { id, statements }: StoreMessage,
): Promise<StoredMessage> {
  try {
    await lock.run(() => db.batch(statements, "write"));
    return { type: "stored", id };
  } catch (error) {
    return { type: "stored", id, error: error instanceof Error ? error.message : `${error}` };
  }
}
