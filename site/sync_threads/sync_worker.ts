/**
 * The body of a sync thread (a Deno `Worker` started by `sync_threads.ts`):
 * a {@linkcode SyncHandler} with its own connection to the site's database
 * file and its own cache of hot documents, answering the batches of the
 * peers the site sends it. Decoding and applying Automerge messages, reading
 * documents and sync states, and materialising records happen here; the
 * site's thread keeps its write lock and its connection, the only writer,
 * and stores each group's transaction for it.
 *
 * Others store documents without this cache (the site's thread, the other
 * sync threads), so the handler checks a cached document against its stored
 * row before using it (`checkStored`), and a group is applied without the
 * site's write lock: the statements that save a document fail their
 * transaction if another writer stored it since it was read.
 *
 * @module
 */
import { openDatabase } from "../../store/db.ts";
import { WorkerTransactions } from "../worker_transactions.ts";
import { DocStore } from "../../store/doc_store.ts";
import { Mutex } from "../../lib/mutex.ts";
import { DocCache } from "../../store/doc_cache.ts";
import { SyncStateStore } from "../../store/sync_state_store.ts";
import { peerOf, SyncBusy, SyncHandler, SyncRefusal } from "../../sync/mod.ts";
import { materialize } from "../materialize.ts";
import type {
  FromSyncThread,
  SyncThreadFailure,
  SyncThreadSetup,
  ToSyncThread,
} from "./sync_thread_protocol.ts";

interface WorkerScope {
  onmessage: ((event: MessageEvent<ToSyncThread>) => void) | null;
  postMessage(message: FromSyncThread): void;
}

const scope = self as unknown as WorkerScope;
/** Its page cache: documents' rows and chunks, and sync states, for the batches it applies. */
const CACHE_MIB = 32;

/** Each group's transaction, stored by the site's thread. */
const transactions = new WorkerTransactions((message) => scope.postMessage(message));

let setup: SyncThreadSetup | undefined;
let handler: Promise<SyncHandler> | undefined;

/** The handler, opened on the first batch; opened again after a failure to open. */
function opened(): Promise<SyncHandler> {
  if (!setup) return Promise.reject(new Error("the sync thread was not set up"));
  handler ??= open(setup).catch((error) => {
    handler = undefined;
    throw error;
  });
  return handler;
}

async function open(setup: SyncThreadSetup): Promise<SyncHandler> {
  const db = await openDatabase(setup.file, [], { cacheMiB: CACHE_MIB });
  const docs = new DocStore(db);
  const cache = new DocCache(docs, setup.docCacheSize, undefined, setup.docCacheBytes, {
    admitOnReuseWithin: setup.admitOnReuseWithin,
  });
  return new SyncHandler({
    db,
    docs,
    states: new SyncStateStore(db),
    cache,
    // Its groups one at a time. The site's lock is held only to store them: what another writer
    // stored meanwhile fails the transaction (`DocStore.prepareSave`), and the batch is tried again.
    lock: new Mutex(),
    materialize,
    maxQueued: setup.maxQueued,
    // A group waits for the site's thread to store it, so larger groups make fewer waits; what
    // a longer apply holds up here is only this thread's heartbeats, not the site's requests.
    maxGroup: 128,
    groupBudgetMs: 50,
    store: (statements) => transactions.store(statements),
    checkStored: true,
    written: (docIds) => {
      if (docIds.length > 0) scope.postMessage({ type: "written", docIds });
    },
  });
}

async function handle(request: Extract<ToSyncThread, { type: "handle" }>): Promise<void> {
  try {
    const peer = { ...peerOf(request.peer), clockCorrectionMs: request.clockCorrectionMs };
    const handled = await (await opened()).handle(peer, request.items);
    scope.postMessage({ type: "handled", id: request.id, items: handled.items });
  } catch (error) {
    scope.postMessage({ type: "failed", id: request.id, failure: failureOf(error) });
  }
}

function failureOf(error: unknown): SyncThreadFailure {
  if (error instanceof SyncRefusal) {
    return { kind: "refused", status: error.status, code: error.code, message: error.message };
  }
  if (error instanceof SyncBusy) return { kind: "busy", queued: error.queued };
  return { kind: "error", message: error instanceof Error ? error.message : `${error}` };
}

scope.onmessage = ({ data }) => {
  switch (data.type) {
    case "setup":
      setup = data.setup;
      return;
    case "handle":
      handle(data);
      return;
    case "stored":
      transactions.stored(data);
  }
};
