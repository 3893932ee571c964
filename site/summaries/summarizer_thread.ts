/**
 * The site's summariser on a thread of its own: a Deno `Worker` running
 * `summarizer_worker.ts` with its own connection to the site's database
 * file, which SQLite's WAL lets read beside the site's writes.
 *
 * On the site's thread, a run over a 2,000-computer fleet's day held every
 * request up: reading the day's sessions, parsing them and sweeping them
 * made tasks of one to two seconds under the load test, however often the
 * run gave the event loop a turn. The worker only reads; each bounded
 * transaction it has to store is run here, on the site's connection under
 * the site's write lock, so that connection stays the only writer (writes
 * from the worker's own connection made the site's fail with `SQLITE_BUSY`
 * under load).
 *
 * A database that is not a local file (a libSQL server, memory) keeps the
 * summariser on the site's thread.
 *
 * @module
 */
import type { Client, InStatement } from "../../store/db.ts";
import type { Mutex } from "../../lib/mutex.ts";
import { databaseFile } from "../../store/database_file.ts";
import type { SiteSettings } from "../site_settings.ts";
import { storeUnderLock, Summarizer, type SummaryRun } from "./summarizer.ts";
import type { FromSummarizer, ToSummarizer } from "./summarizer_protocol.ts";

export interface SummarizerThreadOptions {
  db: Client;
  /** The site's write lock, held while the worker's transactions are stored. */
  lock: Mutex;
  settings: () => SiteSettings;
}

interface Waiting {
  resolve(run: SummaryRun): void;
  reject(error: Error): void;
}

export class SummarizerThread {
  readonly #o: SummarizerThreadOptions;
  #file?: Promise<string | undefined>;
  #worker?: Worker;
  #onThisThread?: Summarizer;
  readonly #waiting = new Map<number, Waiting>();
  #nextId = 1;

  constructor(options: SummarizerThreadOptions) {
    this.#o = options;
  }

  /** Summarises what changed (see {@linkcode Summarizer.run}). */
  run(now = Date.now()): Promise<SummaryRun> {
    return this.#ask("run", now);
  }

  /** Computes every summary again from the raw sessions (see {@linkcode Summarizer.rebuild}). */
  rebuild(now = Date.now()): Promise<SummaryRun> {
    return this.#ask("rebuild", now);
  }

  /** Stops the worker; runs not finished are refused (what they stored stays consistent). */
  close(): void {
    this.#worker?.terminate();
    this.#worker = undefined;
    this.#failAll(new Error("the site is stopping"));
  }

  async #ask(op: "run" | "rebuild", now: number): Promise<SummaryRun> {
    this.#file ??= databaseFile(this.#o.db);
    const file = await this.#file;
    if (!file) {
      this.#onThisThread ??= new Summarizer(this.#o);
      return op === "rebuild" ? this.#onThisThread.rebuild(now) : this.#onThisThread.run(now);
    }
    const worker = this.#worker ??= this.#spawn();
    const id = this.#nextId++;
    return await new Promise<SummaryRun>((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      // The worker's summariser takes runs one after another, as here.
      this.#send(worker, { type: "run", id, op, file, now, settings: this.#o.settings() });
    });
  }

  #spawn(): Worker {
    const worker = new Worker(new URL("./summarizer_worker.ts", import.meta.url), {
      type: "module",
    });
    worker.onmessage = ({ data }: MessageEvent<FromSummarizer>) => {
      if (data.type === "store") this.#store(worker, data.id, data.statements);
      else {
        const waiting = this.#waiting.get(data.id);
        this.#waiting.delete(data.id);
        if (data.ok) waiting?.resolve(data.run);
        else waiting?.reject(new Error(data.message));
      }
    };
    worker.onerror = (event) => {
      event.preventDefault();
      // A run cut short left nothing half done (its pending entries go last);
      // the next run starts a new worker and does it again.
      worker.terminate();
      if (this.#worker === worker) this.#worker = undefined;
      this.#failAll(new Error(`the summariser's worker failed: ${event.message}`));
    };
    return worker;
  }

  #send(worker: Worker, message: ToSummarizer): void {
    worker.postMessage(message);
  }

  /** Stores one of the worker's transactions and tells it how that went. */
  async #store(worker: Worker, id: number, statements: InStatement[]): Promise<void> {
    let error: string | undefined;
    try {
      await storeUnderLock(this.#o.db, this.#o.lock, statements);
    } catch (e) {
      error = e instanceof Error ? e.message : `${e}`;
    }
    if (this.#worker === worker) this.#send(worker, { type: "stored", id, error });
  }

  #failAll(error: Error): void {
    for (const waiting of this.#waiting.values()) waiting.reject(error);
    this.#waiting.clear();
  }
}
