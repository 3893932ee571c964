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
 * A rebuild from scratch is shared between this worker and others started
 * for it ({@linkcode rebuildWorkers}), each taking a share of the rules of
 * about equal work (`rule_shares.ts`): reading and sweeping a fleet's
 * sessions is most of a rebuild, and on two cores the site's thread, which
 * stores for all of them, had half a core to spare. Runs wait until the
 * rebuild is done.
 *
 * A database that is not a local file (a libSQL server, memory) keeps the
 * summariser on the site's thread.
 *
 * @module
 */
import type { Client } from "../../store/db.ts";
import type { Mutex } from "../../lib/mutex.ts";
import { databaseFile } from "../../store/database_file.ts";
import { log } from "../../lib/log.ts";
import type { SiteSettings } from "../site_settings.ts";
import { Summarizer, type SummaryRun } from "./summarizer.ts";
import { storeForWorker, type StoreMessage } from "../worker_transactions.ts";
import { ruleShares } from "./rule_shares.ts";
import type { FromSummarizer, SummaryWork, ToSummarizer } from "./summarizer_protocol.ts";

export interface SummarizerThreadOptions {
  db: Client;
  /** The site's write lock, held while the worker's transactions are stored. */
  lock: Mutex;
  settings: () => SiteSettings;
  /** Workers a rebuild is shared among ({@linkcode rebuildWorkers} by default). */
  rebuildWorkers?: number;
}

/**
 * Workers a rebuild is shared among: one per core but the one the site's
 * thread stores on, and at least two (on two cores that thread had half a
 * core to spare). At most four: past that the site's thread, storing for
 * all, sets the pace, and each worker holds a day of its rules' sessions.
 */
export function rebuildWorkers(cores = navigator.hardwareConcurrency): number {
  return Math.min(4, Math.max(2, cores - 1));
}

interface Waiting {
  resolve(run: SummaryRun): void;
  reject(error: Error): void;
}

export class SummarizerThread {
  readonly #o: SummarizerThreadOptions;
  #file?: Promise<string | undefined>;
  #worker?: Worker;
  /** Every worker alive: the summariser's, and a rebuild's helpers while it runs. */
  readonly #alive = new Set<Worker>();
  #onThisThread?: Summarizer;
  readonly #waiting = new Map<number, Waiting>();
  #nextId = 1;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: SummarizerThreadOptions) {
    this.#o = options;
  }

  /** Summarises what changed (see {@linkcode Summarizer.run}). */
  run(now = Date.now()): Promise<SummaryRun> {
    return this.#serial(async () => {
      const file = await this.#databaseFile();
      if (!file) return await this.#here().run(now);
      return await this.#ask(this.#worker ??= this.#spawn(), { op: "run", file, now });
    });
  }

  /** Computes every summary again from the raw sessions (see {@linkcode Summarizer.rebuild}). */
  rebuild(now = Date.now()): Promise<SummaryRun> {
    return this.#serial(async () => {
      const file = await this.#databaseFile();
      if (!file) return await this.#here().rebuild(now);
      return await this.#sharedRebuild(file, now);
    });
  }

  /** Stops the workers; runs not finished are refused (what they stored stays consistent). */
  close(): void {
    for (const worker of this.#alive) worker.terminate();
    this.#alive.clear();
    this.#worker = undefined;
    this.#failAll(new Error("the site is stopping"));
  }

  /** One run or rebuild at a time, in the order asked. */
  #serial<T>(work: () => Promise<T>): Promise<T> {
    const result = this.#queue.catch(() => {}).then(work);
    this.#queue = result;
    return result;
  }

  #databaseFile(): Promise<string | undefined> {
    return this.#file ??= databaseFile(this.#o.db);
  }

  /** A summariser on the site's thread: all of it for a database not in a file. */
  #here(): Summarizer {
    return this.#onThisThread ??= new Summarizer(this.#o);
  }

  /**
   * A rebuild begun and finished here (a few statements), its rules' days
   * computed on several workers at once.
   */
  async #sharedRebuild(file: string, now: number): Promise<SummaryRun> {
    const started = performance.now();
    const here = this.#here();
    const begun = await here.beginRebuild();
    const shares = await ruleShares(this.#o.db, this.#o.rebuildWorkers ?? rebuildWorkers());
    const main = this.#worker ??= this.#spawn();
    const helpers = shares.slice(1).map(() => this.#spawn());
    try {
      const parts = await Promise.all(
        shares.map((rules, i) =>
          this.#ask(i === 0 ? main : helpers[i - 1], { op: "rebuild-rules", file, now, rules })
        ),
      );
      await here.finishRebuild(now, begun);
      const total: SummaryRun = {
        sessions: sum(parts.map((p) => p.sessions)),
        hours: Math.max(...parts.map((p) => p.hours)),
        clientDays: sum(parts.map((p) => p.clientDays)),
        refreshedRunning: true,
        ms: Math.round(performance.now() - started),
      };
      log.info("summaries rebuilt", { ...total, workers: shares.length });
      return total;
    } finally {
      for (const helper of helpers) {
        helper.terminate();
        this.#alive.delete(helper);
      }
    }
  }

  async #ask(
    worker: Worker,
    request: SummaryWork & { file: string; now: number },
  ): Promise<SummaryRun> {
    const id = this.#nextId++;
    return await new Promise<SummaryRun>((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      this.#send(worker, { type: "run", id, ...request, settings: this.#o.settings() });
    });
  }

  #spawn(): Worker {
    const worker = new Worker(new URL("./summarizer_worker.ts", import.meta.url), {
      type: "module",
    });
    this.#alive.add(worker);
    worker.onmessage = ({ data }: MessageEvent<FromSummarizer>) => {
      if (data.type === "store") this.#store(worker, data);
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
      this.#alive.delete(worker);
      if (this.#worker === worker) this.#worker = undefined;
      this.#failAll(new Error(`the summariser's worker failed: ${event.message}`));
    };
    return worker;
  }

  #send(worker: Worker, message: ToSummarizer): void {
    worker.postMessage(message);
  }

  /** Stores one of the worker's transactions and tells it how that went. */
  async #store(worker: Worker, message: StoreMessage): Promise<void> {
    const stored = await storeForWorker(this.#o.db, this.#o.lock, message);
    if (this.#alive.has(worker)) this.#send(worker, stored);
  }

  #failAll(error: Error): void {
    for (const waiting of this.#waiting.values()) waiting.reject(error);
    this.#waiting.clear();
  }
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
