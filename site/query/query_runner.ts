/**
 * The site's side of queries: a small pool of query workers (Deno `Worker`s
 * running `query_worker.ts`, each with its own read-only connection to the
 * site's database file), one query per worker at a time, and a bounded queue
 * for the rest.
 *
 * A worker stops a query at its time limit itself (it interrupts the
 * statement, which runs on libSQL's own thread). Should a worker still not
 * answer `graceMs` later, it is terminated and replaced, and the query is
 * answered as timed out all the same. Idle workers are stopped after
 * `idleMs`, so an unused site holds no extra connection.
 *
 * Queries need the database to be a local file; on a libSQL server they are
 * refused with 501.
 *
 * @module
 */
import type { Client } from "../../sync/db.ts";
import { log } from "../../sync/log.ts";
import { ApiError } from "../api_error.ts";
import { databaseFile } from "../database_file.ts";
import {
  type QueryReply,
  type QueryRequest,
  timeoutReply,
  type WorkerReply,
  type WorkerRequest,
} from "./query_protocol.ts";

export interface QueryRunnerOptions {
  /** Queries run at once, one worker each (default 2). */
  workers?: number;
  /** Queries that may wait for a worker; more are refused with 503 (default 16). */
  queue?: number;
  /** How long past its time limit a worker may take to answer (default 5 s). */
  graceMs?: number;
  /** A worker idle this long is stopped (default 60 s). */
  idleMs?: number;
}

interface Slot {
  worker: Worker;
  idle?: ReturnType<typeof setTimeout>;
}

interface Waiter {
  resolve(slot: Slot): void;
  reject(error: Error): void;
}

export class QueryRunner {
  readonly #db: Client;
  readonly #options: Required<QueryRunnerOptions>;
  #file?: Promise<string>;
  readonly #free: Slot[] = [];
  readonly #all = new Set<Slot>();
  readonly #waiting: Waiter[] = [];
  #nextId = 1;

  constructor(db: Client, options: QueryRunnerOptions = {}) {
    this.#db = db;
    this.#options = { workers: 2, queue: 16, graceMs: 5000, idleMs: 60_000, ...options };
  }

  async run(request: QueryRequest): Promise<QueryReply> {
    const file = await this.#databaseFile();
    const slot = await this.#acquire();
    try {
      return await this.#send(slot, file, request);
    } finally {
      this.#release(slot);
    }
  }

  /** Stops every worker; queries waiting for one are refused. */
  close(): void {
    for (const slot of [...this.#all]) this.#stop(slot);
    for (const waiter of this.#waiting.splice(0)) {
      waiter.reject(new ApiError(503, "closing", "the site is stopping"));
    }
  }

  /** Workers started and alive, busy or idle. */
  get workers(): number {
    return this.#all.size;
  }

  #databaseFile(): Promise<string> {
    this.#file ??= databaseFile(this.#db).then((file) => {
      if (file) return file;
      this.#file = undefined;
      throw new ApiError(
        501,
        "not_available",
        "queries need the site's database to be a local file; this site's is not",
      );
    });
    return this.#file;
  }

  async #acquire(): Promise<Slot> {
    const free = this.#free.pop();
    if (free) {
      clearTimeout(free.idle);
      return free;
    }
    if (this.#all.size < this.#options.workers) return this.#spawn();
    if (this.#waiting.length >= this.#options.queue) {
      throw new ApiError(
        503,
        "busy",
        `${this.#options.workers} queries are running and ${this.#waiting.length} waiting; ` +
          "try again in a few seconds",
      );
    }
    return await new Promise<Slot>((resolve, reject) => this.#waiting.push({ resolve, reject }));
  }

  /** Hands the worker to the next waiting query, or lets it idle. */
  #release(slot: Slot): void {
    const next = this.#waiting.shift();
    const live = this.#all.has(slot) ? slot : next && this.#spawn();
    if (!live) return;
    if (next) return next.resolve(live);
    const idle = setTimeout(() => this.#stop(live), this.#options.idleMs);
    Deno.unrefTimer(idle);
    live.idle = idle;
    this.#free.push(live);
  }

  #spawn(): Slot {
    const worker = new Worker(new URL("./query_worker.ts", import.meta.url), { type: "module" });
    const slot = { worker };
    this.#all.add(slot);
    return slot;
  }

  #stop(slot: Slot): void {
    clearTimeout(slot.idle);
    slot.worker.terminate();
    this.#all.delete(slot);
    const index = this.#free.indexOf(slot);
    if (index >= 0) this.#free.splice(index, 1);
  }

  #send(slot: Slot, file: string, request: QueryRequest): Promise<QueryReply> {
    const id = this.#nextId++;
    return new Promise((resolve) => {
      const guard = setTimeout(() => {
        log.error("a query worker did not stop at the time limit; terminated", { id });
        this.#stop(slot);
        resolve(timeoutReply(request.timeoutMs));
      }, request.timeoutMs + this.#options.graceMs);
      slot.worker.onmessage = (event: MessageEvent<WorkerReply>) => {
        if (event.data.id !== id) return;
        clearTimeout(guard);
        resolve(event.data.reply);
      };
      slot.worker.onerror = (event: ErrorEvent) => {
        event.preventDefault();
        clearTimeout(guard);
        log.error("a query worker failed; replaced", { id, error: event.message });
        this.#stop(slot);
        resolve({ ok: false, status: 500, code: "internal", message: "the query failed" });
      };
      slot.worker.postMessage({ id, file, request } satisfies WorkerRequest);
    });
  }
}
