/**
 * The body of a query worker (a Deno `Worker` started by `query_runner.ts`):
 * it opens its own read-only connection on the first request and runs one
 * query at a time with {@linkcode QueryExecutor}, so converting a large
 * result never holds up the site's own thread.
 *
 * @module
 */
import { QueryExecutor } from "./query_executor.ts";
import type { QueryReply, WorkerReply, WorkerRequest } from "./query_protocol.ts";

interface WorkerScope {
  onmessage: ((event: MessageEvent<WorkerRequest>) => void) | null;
  postMessage(message: WorkerReply): void;
}

const scope = self as unknown as WorkerScope;
let executor: Promise<QueryExecutor> | undefined;

/** The connection, opened on first use; a failed open is tried again next time. */
function connection(file: string): Promise<QueryExecutor> {
  executor ??= QueryExecutor.open(file).catch((error) => {
    executor = undefined;
    throw error;
  });
  return executor;
}

async function answer({ file, request }: WorkerRequest): Promise<QueryReply> {
  try {
    return await (await connection(file)).run(request);
  } catch (error) {
    // Something unforeseen: drop the connection, the next query opens a new one.
    executor?.then((old) => old.close()).catch(() => {});
    executor = undefined;
    return {
      ok: false,
      status: 500,
      code: "internal",
      message: `the query worker failed: ${error instanceof Error ? error.message : error}`,
    };
  }
}

scope.onmessage = async (event) => {
  scope.postMessage({ id: event.data.id, reply: await answer(event.data) });
};
