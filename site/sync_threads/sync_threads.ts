/**
 * The site's answers to sync batches, given on threads of their own: each a
 * Deno `Worker` running `sync_worker.ts`, a {@linkcode SyncHandler} with its
 * own connection to the site's database file and its own hot documents.
 *
 * On the site's thread, under 50,000 agents, Automerge (decoding, applying,
 * generating answers, loading documents, sync states in and out of
 * WebAssembly) and the reads beside it took a third of the thread, which
 * also accepts every connection and answers every health check; it was busy
 * up to 84 % of the time and answers waited behind it. Here the site's
 * thread only routes each batch to its thread and stores what the thread
 * applied under its write lock: its connection stays the database's one
 * writer (writes from a second connection made the site's fail with
 * `SQLITE_BUSY` under load). A thread applies without that lock; a document
 * another writer stored meanwhile fails the transaction
 * (`DocStore.prepareSave`), and the thread applies the batch again.
 *
 * A peer's batches always go to the same thread (by a hash of its id), so
 * its sync states and documents are cached in one place; a document that
 * another thread or the site stored since is noticed by its stored heads
 * (`checkStored`), and a thread's writes make the site's cache let go of
 * the older versions it holds.
 *
 * A database that is not a local file (a libSQL server, memory), or
 * `threads: 0`, keeps the handler on the site's thread.
 *
 * @module
 */
import type { Store } from "../../store/store.ts";
import { databaseFile } from "../../store/database_file.ts";
import { DEFAULT_CACHE_BYTES } from "../../store/doc_cache.ts";
import { log } from "../../lib/log.ts";
import { fnv1a } from "../../lib/fnv1a.ts";
import {
  SyncBusy,
  type SyncHandled,
  SyncHandler,
  type SyncItem,
  type SyncPeer,
  SyncRefusal,
} from "../../sync/mod.ts";
import { materialize } from "../materialize.ts";
import { storeForWorker } from "../worker_transactions.ts";
import type { FromSyncThread, SyncThreadFailure, ToSyncThread } from "./sync_thread_protocol.ts";

export interface SyncThreadsOptions {
  store: Store;
  /** Threads to answer on; 0 answers on the site's thread ({@linkcode DEFAULT_SYNC_THREADS}). */
  threads?: number;
  /** Hot documents, shared among the threads. */
  docCacheSize: number;
  /**
   * Documents used since, within which a document must be used again to be
   * cached (`DocCacheOptions`).
   */
  admitOnReuseWithin: number;
  /** Batches with changes that may wait, per thread; past it a batch is answered 429. */
  maxQueued: number;
}

/**
 * Threads to answer syncs on: none, the site's thread. On two cores with
 * 50,000 simulated agents on the same machine, one sync thread halved sync
 * and health p99 over 300 s, but over 600 s the machine ran out of CPU and
 * the site fell over, which it did not without the thread; two threads
 * stalled for seconds. A machine with a core to spare is not measured.
 */
export const DEFAULT_SYNC_THREADS = 0;

interface Waiting {
  resolve(handled: SyncHandled): void;
  reject(error: Error): void;
}

/** One thread, and what it was asked and has not answered yet. */
interface Thread {
  worker: Worker;
  waiting: Map<number, Waiting>;
  stopped: boolean;
}

export class SyncThreads {
  readonly #o: SyncThreadsOptions;
  readonly #threads: (Thread | undefined)[];
  #file?: Promise<string | undefined>;
  #onThisThread?: SyncHandler;
  #nextId = 1;

  constructor(options: SyncThreadsOptions) {
    this.#o = options;
    this.#threads = new Array(options.threads ?? DEFAULT_SYNC_THREADS).fill(undefined);
  }

  /** Answers a peer's batch (see {@linkcode SyncHandler.handle}). */
  async handle(peer: SyncPeer, items: SyncItem[]): Promise<SyncHandled> {
    const file = await (this.#file ??= databaseFile(this.#o.store.db));
    if (!file || this.#threads.length === 0) return await this.#here().handle(peer, items);
    if (!peer.spec) {
      throw new TypeError(`peer ${peer.id} was not made by a function of sync_peer.ts`);
    }
    const thread = this.#thread(shardOf(peer.id, this.#threads.length), file);
    const id = this.#nextId++;
    return await new Promise<SyncHandled>((resolve, reject) => {
      thread.waiting.set(id, { resolve, reject });
      this.#send(thread, {
        type: "handle",
        id,
        peer: peer.spec!,
        clockCorrectionMs: peer.clockCorrectionMs,
        items,
      });
    });
  }

  /**
   * Stops the threads. Batches not answered yet are refused; what was stored
   * of them stays stored, and their peers' next sync finds it there.
   */
  close(): void {
    for (const [i, thread] of this.#threads.entries()) {
      if (thread) this.#stop(thread, new Error("the site is stopping"));
      this.#threads[i] = undefined;
    }
  }

  #here(): SyncHandler {
    const { store, maxQueued } = this.#o;
    return this.#onThisThread ??= new SyncHandler({ ...store, materialize, maxQueued });
  }

  #thread(i: number, file: string): Thread {
    const existing = this.#threads[i];
    if (existing) return existing;
    const worker = new Worker(new URL("./sync_worker.ts", import.meta.url), { type: "module" });
    const thread: Thread = { worker, waiting: new Map(), stopped: false };
    const shares = this.#threads.length;
    this.#send(thread, {
      type: "setup",
      setup: {
        file,
        docCacheSize: Math.max(10, Math.ceil(this.#o.docCacheSize / shares)),
        docCacheBytes: Math.ceil(DEFAULT_CACHE_BYTES / shares),
        admitOnReuseWithin: Math.ceil(this.#o.admitOnReuseWithin / shares),
        maxQueued: this.#o.maxQueued,
      },
    });
    worker.onmessage = ({ data }: MessageEvent<FromSyncThread>) => this.#received(thread, data);
    worker.onerror = (event) => {
      event.preventDefault();
      log.error("a sync thread failed", { error: event.message });
      // Its batches under way are answered with an error, and their peers try again: each
      // transaction it sent is stored whole or not at all. The next batch starts a new thread.
      this.#stop(thread, new Error(`the sync thread failed: ${event.message}`));
      if (this.#threads[i] === thread) this.#threads[i] = undefined;
    };
    this.#threads[i] = thread;
    return thread;
  }

  #received(thread: Thread, message: FromSyncThread): void {
    switch (message.type) {
      case "handled":
      case "failed": {
        const waiting = thread.waiting.get(message.id);
        thread.waiting.delete(message.id);
        if (message.type === "handled") waiting?.resolve({ items: message.items });
        else waiting?.reject(errorOf(message.failure));
        return;
      }
      case "store":
        storeForWorker(this.#o.store.db, this.#o.store.lock, message).then((stored) =>
          this.#send(thread, stored)
        );
        return;
      case "written":
        this.#forget(message.docIds);
    }
  }

  /** Versions of documents a thread stored anew, which this thread's cache may hold, go. */
  #forget(docIds: string[]): void {
    const { lock, cache } = this.#o.store;
    if (!docIds.some((docId) => cache.peek(docId))) return; // the usual case: agents' documents
    // Under the lock no one here is using a cached document, so their memory can go at once.
    lock.run(() => {
      for (const docId of docIds) cache.delete(docId);
      cache.freeReleased();
      return Promise.resolve();
    });
  }

  #send(thread: Thread, message: ToSyncThread): void {
    if (!thread.stopped) thread.worker.postMessage(message);
  }

  #stop(thread: Thread, error: Error): void {
    thread.stopped = true;
    thread.worker.terminate();
    for (const waiting of thread.waiting.values()) waiting.reject(error);
    thread.waiting.clear();
  }
}

/** A refusal as the thread sent it, made again so the app answers it as before. */
function errorOf(failure: SyncThreadFailure): Error {
  switch (failure.kind) {
    case "refused":
      return new SyncRefusal(failure.status, failure.code, failure.message);
    case "busy":
      return new SyncBusy(failure.queued);
    case "error":
      return new Error(failure.message);
  }
}

/** The thread of a peer: FNV-1a of its id, so its batches always meet the same cache. */
export function shardOf(peerId: string, shares: number): number {
  return fnv1a(peerId) % shares;
}
