/**
 * The version of the rules a site's agents follow (its own rules document
 * and its ancestors'), as a short token, and the waits of agents for it to
 * change: the site's side of `GET /v1/sync/wait`.
 *
 * The version is a hash of the documents' stored heads, read from the
 * `docs` table, so every way rules change (the API, automatic rules, a
 * parent's rules arriving, a restore) moves it, and nothing has to tell
 * this class. It is read again at most once a second while someone asks,
 * and checked every second while agents wait; an idle site reads nothing.
 *
 * A waiting agent costs a held connection (about 20 KB in the site), so at
 * most `maxWaiting` are held; the others are told to ask again.
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { Client } from "../../store/db.ts";

/** How stale the version may be: one read of the rules' heads a second at most. */
const FRESH_MS = 1_000;

interface Waiter {
  version: string;
  resolve: (version: string) => void;
}

export class RulesVersion {
  readonly #db: Client;
  readonly #docIds: () => readonly string[];
  #version = "";
  #readAt = -Infinity;
  #reading: Promise<string> | undefined;
  readonly #waiters = new Set<Waiter>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #closed = false;

  /** `docIds` gives the rules documents the site's agents follow, read at each check. */
  constructor(db: Client, docIds: () => readonly string[]) {
    this.#db = db;
    this.#docIds = docIds;
  }

  /** Agents held waiting now. */
  get waiting(): number {
    return this.#waiters.size;
  }

  /** The version as of at most a second ago. */
  current(): Promise<string> {
    if (performance.now() - this.#readAt < FRESH_MS) return Promise.resolve(this.#version);
    this.#reading ??= this.#read().finally(() => this.#reading = undefined);
    return this.#reading;
  }

  /** Resolves with the version once it differs from `version`, or with the same after `ms`. */
  async wait(version: string, ms: number): Promise<string> {
    const now = await this.current();
    if (now !== version || ms <= 0 || this.#closed) return now;
    return new Promise((resolve) => {
      const done = (answer: string) => {
        clearTimeout(timeout);
        this.#waiters.delete(waiter);
        if (this.#waiters.size === 0) this.#stopChecking();
        resolve(answer);
      };
      const waiter: Waiter = { version, resolve: done };
      const timeout = setTimeout(() => done(version), ms);
      this.#waiters.add(waiter);
      this.#startChecking();
    });
  }

  /** Lets every waiting agent go and holds no more: the site stops. */
  close(): void {
    this.#closed = true;
    for (const waiter of [...this.#waiters]) waiter.resolve(waiter.version);
  }

  async #read(): Promise<string> {
    const ids = this.#docIds();
    const result = await this.#db.execute({
      sql: `SELECT doc_id, heads FROM docs WHERE doc_id IN (${ids.map(() => "?").join(", ")})`,
      args: [...ids],
    });
    const known = new Map(result.rows.map((r) => [String(r.doc_id), String(r.heads)]));
    const text = ids.map((id) => `${id} ${known.get(id) ?? ""}`).join("\n");
    this.#version = createHash("sha256").update(text).digest("hex").slice(0, 8);
    this.#readAt = performance.now();
    return this.#version;
  }

  #startChecking(): void {
    this.#timer ??= setInterval(() => this.#check(), FRESH_MS);
  }

  #stopChecking(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async #check(): Promise<void> {
    let version: string;
    try {
      version = await this.current();
    } catch {
      return; // the database is busy or closing: the next check tries again
    }
    for (const waiter of [...this.#waiters]) {
      if (waiter.version !== version) waiter.resolve(version);
    }
  }
}
