/**
 * A query process: the site starts it (`query_runner.ts`) as
 * `meter query-process`, sends it one query at a time on its standard input
 * and reads each answer, encoded result included, on its standard output.
 * Logs go to standard error, which the site passes on.
 *
 * Queries run here rather than in the site's process so that nothing a query
 * does can reach the site: SQLite's heap cap (`PRAGMA hard_heap_limit`) is
 * process-wide and bounds only queries here; a statement stuck inside one
 * long function call (a `LIKE` over megabytes), which SQLite's interrupt
 * cannot stop, ends when the site kills the process; and a process of its
 * own holds no lock of the site's database, so nothing here can drop one.
 *
 * The process ends when its standard input closes (the site stopped or let
 * it go idle).
 *
 * @module
 */
import { log } from "../../lib/log.ts";
import { FrameReader, writeFrame } from "./frames.ts";
import { type ExecutorReply, QueryExecutor } from "./query_executor.ts";
import type { ReplyHeader, RequestHeader } from "./query_protocol.ts";

let executor: Promise<QueryExecutor> | undefined;

/** The connection, opened on first use; a failed open is tried again next time. */
function connection(file: string): Promise<QueryExecutor> {
  executor ??= QueryExecutor.open(file).catch((error) => {
    executor = undefined;
    throw error;
  });
  return executor;
}

async function answer({ file, request }: RequestHeader): Promise<ExecutorReply> {
  try {
    return await (await connection(file)).run(request);
  } catch (error) {
    // Something unforeseen: drop the connection, the next query opens a new one.
    log.error("a query failed in the query process", { error });
    executor?.then((old) => old.close()).catch(() => {});
    executor = undefined;
    return { ok: false, status: 500, code: "internal", message: "the query process failed" };
  }
}

/** Answers every request on standard input until it closes. */
export async function serveQueries(): Promise<void> {
  const requests = new FrameReader<RequestHeader>(Deno.stdin.readable);
  const replies = Deno.stdout.writable.getWriter();
  await writeFrame(replies, { ready: true } satisfies ReplyHeader);
  for (let frame = await requests.next(); frame; frame = await requests.next()) {
    const reply = await answer(frame.header);
    const { id } = frame.header;
    if (reply.ok) {
      const { truncated, format, body } = reply;
      await writeFrame(replies, { id, ok: true, truncated, format } satisfies ReplyHeader, body);
    } else {
      await writeFrame(replies, { id, ...reply } satisfies ReplyHeader);
    }
  }
  (await executor?.catch(() => undefined))?.close();
}
