/**
 * The body of the summariser's worker (a Deno `Worker` started by
 * `summarizer_thread.ts`): it opens its own connection to the site's
 * database file on the first request and runs the {@linkcode Summarizer}
 * there, one run at a time, so reading a day of a large fleet's sessions and
 * sweeping them never holds up the site's own thread. It only reads: each
 * transaction it has to store goes to the site's thread.
 *
 * @module
 */
import { openDatabase } from "../../store/db.ts";
import { WorkerTransactions } from "../worker_transactions.ts";
import { Mutex } from "../../lib/mutex.ts";
import { collectGarbage } from "../../lib/collect_garbage.ts";
import type { SiteSettings } from "../site_settings.ts";
import { Summarizer } from "./summarizer.ts";
import type { FromSummarizer, ToSummarizer } from "./summarizer_protocol.ts";

interface WorkerScope {
  onmessage: ((event: MessageEvent<ToSummarizer>) => void) | null;
  postMessage(message: FromSummarizer): void;
}

const scope = self as unknown as WorkerScope;
/** Its own page cache: the summariser reads a day at a time, the site's cache keeps documents. */
const CACHE_MIB = 16;

/** Each transaction of a run, stored by the site's thread. */
const transactions = new WorkerTransactions((message) => scope.postMessage(message));

/** The settings of the latest request: the site's, as they were when it asked. */
let settings: SiteSettings;
let summarizer: Promise<Summarizer> | undefined;

function open(file: string): Promise<Summarizer> {
  summarizer ??= openDatabase(file, [], { cacheMiB: CACHE_MIB }).then((db) =>
    // Alone on its thread: no event loop to share with requests.
    new Summarizer({
      db,
      lock: new Mutex(),
      store: (statements) => transactions.store(statements),
      settings: () => settings,
      eventLoopBudgetMs: 1e9,
    })
  ).catch((error) => {
    summarizer = undefined;
    throw error;
  });
  return summarizer;
}

async function run(request: Extract<ToSummarizer, { type: "run" }>): Promise<FromSummarizer> {
  try {
    settings = request.settings;
    const s = await open(request.file);
    const done = request.op === "rebuild-rules"
      ? await s.rebuildRules(request.now, request.rules)
      : await s.run(request.now);
    // A run's garbage is a fleet's day of sessions; V8 would keep it for a
    // while. Collecting it here holds no one up but this thread.
    collectGarbage();
    return { type: "done", id: request.id, ok: true, run: done };
  } catch (error) {
    const message = error instanceof Error ? error.message : `${error}`;
    return { type: "done", id: request.id, ok: false, message };
  }
}

scope.onmessage = async ({ data }) => {
  if (data.type === "stored") {
    transactions.stored(data);
    // The summariser takes runs one after another however they arrive.
  } else scope.postMessage(await run(data));
};
