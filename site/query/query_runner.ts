/**
 * The site's side of queries: a small pool of query processes (`meter
 * query-process`, see `query_process.ts` for why processes), one query per
 * process at a time, and a bounded queue for the rest.
 *
 * A query process interrupts a statement at its time limit itself. One that
 * has not answered `graceMs` later is stuck where SQLite's interrupt cannot
 * reach (inside one long function call), so it is killed, which stops its
 * CPU at once, and the query is answered as timed out all the same; the next
 * query starts a new process. Idle processes end after `idleMs`, so an
 * unused site holds no extra process or connection.
 *
 * The answer's bytes come encoded from the process; the site's thread only
 * copies them into the HTTP response.
 *
 * Queries need the database to be a local file; on a libSQL server they are
 * refused with 501.
 *
 * @module
 */
import type { Client } from "../../store/db.ts";
import { log } from "../../lib/log.ts";
import { ApiError } from "../http/api_error.ts";
import { databaseFile } from "../../store/database_file.ts";
import { FrameReader, writeFrame } from "./frames.ts";
import {
  type QueryFailure,
  type QueryReply,
  type QueryRequest,
  type ReplyHeader,
  type RequestHeader,
  timeoutReply,
} from "./query_protocol.ts";
import { queryProcessCommand } from "./query_process_command.ts";

export interface QueryRunnerOptions {
  /** Queries run at once, one process each (default 2). */
  workers?: number;
  /** Queries that may wait for a process; more are refused with 503 (default 16). */
  queue?: number;
  /** How long past its time limit a process may take to answer before it is killed (default 500 ms). */
  graceMs?: number;
  /** A process idle this long is stopped (default 60 s). */
  idleMs?: number;
}

interface Slot {
  child: Deno.ChildProcess;
  replies: FrameReader<ReplyHeader>;
  requests: WritableStreamDefaultWriter<Uint8Array>;
  idle?: ReturnType<typeof setTimeout>;
}

interface Waiter {
  resolve(slot: Slot): void;
  reject(error: Error): void;
}

/** How long a new query process may take to be ready. */
const STARTUP_MS = 30_000;

const FAILED: QueryFailure = {
  ok: false,
  status: 500,
  code: "internal",
  message: "the query process stopped unexpectedly; try again",
};

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
    this.#options = { workers: 2, queue: 16, graceMs: 500, idleMs: 60_000, ...options };
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

  /** Stops every process; queries waiting for one are refused. */
  close(): void {
    for (const slot of [...this.#all]) this.#stop(slot);
    for (const waiter of this.#waiting.splice(0)) {
      waiter.reject(new ApiError(503, "closing", "the site is stopping"));
    }
  }

  /** Processes started and alive, busy or idle. */
  get workers(): number {
    return this.#all.size;
  }

  /** The process ids of the live query processes. */
  get pids(): number[] {
    return [...this.#all].map((slot) => slot.child.pid);
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

  /** Hands the process to the next waiting query (a new one if it died), or lets it idle. */
  #release(slot: Slot): void {
    const next = this.#waiting.shift();
    const alive = this.#all.has(slot);
    if (next && alive) return next.resolve(slot);
    if (next) return void this.#spawn().then(next.resolve, next.reject);
    if (!alive) return;
    const idle = setTimeout(() => this.#stop(slot), this.#options.idleMs);
    Deno.unrefTimer(idle);
    slot.idle = idle;
    this.#free.push(slot);
  }

  /**
   * Starts a process and waits for it to say it is ready, so that its start
   * (a second or more on a loaded machine) never counts against a query's
   * time limit.
   */
  async #spawn(): Promise<Slot> {
    const { command, args } = queryProcessCommand();
    const child = new Deno.Command(command, {
      args,
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    child.unref();
    const slot = {
      child,
      replies: new FrameReader<ReplyHeader>(child.stdout),
      requests: child.stdin.getWriter(),
    };
    this.#all.add(slot);
    try {
      const ready = await within(slot.replies.next(), STARTUP_MS, () => undefined);
      if (!ready || !("ready" in ready.header)) throw new Error("it did not say it was ready");
      return slot;
    } catch (error) {
      log.error("a query process did not start", { error });
      this.#stop(slot);
      throw new ApiError(500, "internal", "the query process did not start; try again");
    }
  }

  #stop(slot: Slot): void {
    clearTimeout(slot.idle);
    if (this.#all.delete(slot)) {
      slot.replies.cancel();
      slot.requests.close().catch(() => {});
      try {
        slot.child.kill("SIGKILL");
      } catch { /* already gone */ }
      slot.child.status.catch(() => {});
    }
    const index = this.#free.indexOf(slot);
    if (index >= 0) this.#free.splice(index, 1);
  }

  async #send(slot: Slot, file: string, request: QueryRequest): Promise<QueryReply> {
    const id = this.#nextId++;
    return await within(
      this.#exchange(slot, { id, file, request }),
      request.timeoutMs + this.#options.graceMs,
      () => {
        log.warn("a query process did not stop at the time limit; killed", { id });
        this.#stop(slot);
        return timeoutReply(request.timeoutMs);
      },
    );
  }

  /** Sends one request and reads its answer; a process that fails is stopped. */
  async #exchange(slot: Slot, header: RequestHeader): Promise<QueryReply> {
    try {
      await writeFrame(slot.requests, header);
      const frame = await slot.replies.next();
      if (!frame || !("id" in frame.header) || frame.header.id !== header.id) {
        throw new Error("no answer to the query");
      }
      const reply = frame.header;
      if (!reply.ok) {
        return { ok: false, status: reply.status, code: reply.code, message: reply.message };
      }
      return { ok: true, truncated: reply.truncated, format: reply.format, body: frame.body };
    } catch (error) {
      if (!this.#all.has(slot)) return FAILED; // killed at the deadline, already answered
      log.error("a query process failed; replaced", { id: header.id, error });
      this.#stop(slot);
      return FAILED;
    }
  }
}

/** What `work` settles to, or what `late()` gives if `work` has not settled within `ms`. */
async function within<T>(work: Promise<T>, ms: number, late: () => T): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(late()), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
