/**
 * Runs one query on its own read-only connection, inside a query process
 * (`query_process.ts`).
 *
 * The database file is opened with `mode=ro`, so the site's tables cannot be
 * changed from it whatever runs; `temp` stays writable for the views and the
 * result, and lives in memory. A query runs in one read transaction:
 *
 * 1. its text must be one `SELECT`/`WITH`/`VALUES` statement
 *    (`statement_text.ts`);
 * 2. it is compiled alone, must return columns, and its program must open
 *    only the query tables, read only the columns the views show and call
 *    only allowed functions (`program_check.ts`);
 * 3. it runs as `INSERT INTO temp.meter_result SELECT * FROM (<query>) LIMIT
 *    n + 1`, whose program is checked the same way. SQLite parses that only
 *    when the query really is a query, and runs it in one step on libSQL's
 *    own thread (the `libsql/promise` API), so the process's timer can
 *    interrupt it at the time limit;
 * 4. the rows are read back from `temp` and encoded as they are read
 *    (`result_encoding.ts`, at most {@linkcode MAX_RESULT_BYTES}), and the
 *    transaction is rolled back, which also drops the result table.
 *
 * SQLite's heap is capped for the whole process ({@linkcode QUERY_MEMORY_BYTES},
 * `PRAGMA hard_heap_limit`): values, sorts, temp tables and the result all
 * count, and a query that needs more fails there and then instead of growing.
 * The cap is process-wide, which is one reason queries run in a process of
 * their own and never in the site's.
 *
 * @module
 */
import Database from "libsql/promise";
import { checkProgram, type ProgramRow, type ProgramRules } from "./program_check.ts";
import { programRules } from "./program_rules.ts";
import {
  MAX_RESULT_BYTES,
  memoryReply,
  QUERY_MEMORY_BYTES,
  type QueryFailure,
  type QueryRequest,
  timeoutReply,
} from "./query_protocol.ts";
import { viewStatements } from "./query_views.ts";
import { ResultEncoder, type ResultFormat } from "./result_encoding.ts";
import { QueryRefusal, singleQuery } from "./statement_text.ts";

/** A query's answer: the encoded result's bytes, or why there is none. */
export type ExecutorReply =
  | { ok: true; truncated: boolean; format: ResultFormat; body: Uint8Array[] }
  | QueryFailure;

const RESULT = "meter_result";

/** The part of the `libsql/promise` API used here. */
interface Statement {
  columns(): { name: string }[];
  raw(on?: boolean): Statement;
  safeIntegers(on?: boolean): Statement;
  all(...params: unknown[]): Promise<unknown[]>;
  iterate(...params: unknown[]): Promise<Iterable<unknown>>;
}

interface Connection {
  prepare(sql: string): Promise<Statement>;
  exec(sql: string): Promise<void>;
  interrupt(): void;
  close(): void;
}

/** A `file:` URI for SQLite, with characters that mean something in a URI escaped. */
function readOnlyUri(file: string): string {
  return `file:${encodeURI(file).replace(/[?#]/g, encodeURIComponent)}?mode=ro`;
}

function isSqliteError(error: unknown): error is Error & { code: string } {
  const code = (error as { code?: unknown } | null)?.code;
  return error instanceof Error && typeof code === "string" && code.startsWith("SQLITE_");
}

/**
 * SQLite's errors for a value or an allocation over the heap cap. The third
 * is libSQL's when a call failed with no error recorded ("not an error"):
 * SQLite's value accessors fail without one when their allocation does, and
 * two greedy queries at once met it now and then instead of `SQLITE_NOMEM`.
 */
const OUT_OF_MEMORY = new Set(["SQLITE_NOMEM", "SQLITE_TOOBIG", "SQLITE_OK"]);

/**
 * Opens `file` read-only, keeps `temp` in memory (so the heap cap bounds it)
 * and creates the query views there.
 */
async function connect(file: string): Promise<Connection> {
  const db = new Database(readOnlyUri(file), { timeout: 5 }) as unknown as Connection;
  await db.exec(`PRAGMA hard_heap_limit = ${QUERY_MEMORY_BYTES}`);
  await db.exec("PRAGMA temp_store = MEMORY");
  for (const sql of viewStatements()) await db.exec(sql);
  return db;
}

export class QueryExecutor {
  readonly #file: string;
  #db: Connection;

  private constructor(file: string, db: Connection) {
    this.#file = file;
    this.#db = db;
  }

  static async open(file: string): Promise<QueryExecutor> {
    return new QueryExecutor(file, await connect(file));
  }

  close(): void {
    this.#db.close();
  }

  async run({ sql, limit, timeoutMs, format }: QueryRequest): Promise<ExecutorReply> {
    let timedOut = false;
    let fresh = false;
    const timer = setTimeout(() => {
      timedOut = true;
      this.#db.interrupt();
    }, timeoutMs);
    try {
      const body = singleQuery(sql);
      return await this.#inTransaction(() => this.#query(body, limit, format));
    } catch (error) {
      if (timedOut) return timeoutReply(timeoutMs);
      if (error instanceof QueryRefusal) {
        return { ok: false, status: 400, code: error.code, message: error.message };
      }
      if (isSqliteError(error) && OUT_OF_MEMORY.has(error.code)) {
        fresh = true;
        return memoryReply();
      }
      if (isSqliteError(error)) {
        return { ok: false, status: 400, code: "invalid_query", message: error.message };
      }
      throw error;
    } finally {
      clearTimeout(timer);
      // An interrupt can outlive its statement, and a failed allocation can
      // leave the connection short: start afresh.
      if (timedOut || fresh) await this.#reconnect();
    }
  }

  async #reconnect(): Promise<void> {
    this.#db.close();
    this.#db = await connect(this.#file);
  }

  async #inTransaction<T>(work: () => Promise<T>): Promise<T> {
    await this.#db.exec("BEGIN");
    try {
      return await work();
    } finally {
      // Nothing of the site can change; this drops the result table.
      await this.#db.exec("ROLLBACK").catch(() => {});
    }
  }

  async #query(body: string, limit: number, format: ResultFormat): Promise<ExecutorReply> {
    const rules = await programRules(async (sql) =>
      await (await this.#db.prepare(sql)).raw().all() as unknown[][]
    );
    const columns = await this.#columns(body, rules);
    const names = columns.map((_, i) => `c${i}`);
    await this.#fill(body, names, limit + 1, rules);
    const result = new ResultEncoder(format, columns, MAX_RESULT_BYTES);
    const stored = await (await this.#db.prepare(
      `SELECT * FROM temp.${RESULT} ORDER BY rowid LIMIT ${limit + 1}`,
    )).raw().safeIntegers().iterate();
    let rows = 0;
    for (const row of stored as Iterable<unknown[]>) {
      if (++rows > limit) break;
      result.add(row);
    }
    const truncated = rows > limit;
    return { ok: true, truncated, format, body: result.finish(truncated) };
  }

  /** The query's column names, once its program, compiled alone, is found harmless. */
  async #columns(body: string, rules: ProgramRules): Promise<string[]> {
    const columns = (await this.#db.prepare(body)).columns().map((c) => c.name);
    if (columns.length === 0) {
      throw new QueryRefusal("the statement returns no rows; send one read-only SELECT");
    }
    checkProgram(await this.#explain(body), rules);
    return columns;
  }

  /** Runs the query into the result table, at most `rows` rows, in one interruptible step. */
  async #fill(body: string, names: string[], rows: number, rules: ProgramRules): Promise<void> {
    if (!Number.isSafeInteger(rows) || rows < 1) throw new RangeError(`bad row limit ${rows}`);
    await this.#db.exec(`CREATE TEMP TABLE ${RESULT} (${names.join(", ")})`);
    const insert = `INSERT INTO temp.${RESULT} SELECT * FROM (\n${body}\n) LIMIT ${rows}`;
    checkProgram(await this.#explain(insert), { ...rules, writable: await this.#resultRoot() });
    for (const _ of await (await this.#db.prepare(insert)).iterate()) { /* no rows */ }
  }

  async #explain(sql: string): Promise<ProgramRow[]> {
    return await (await this.#db.prepare(`EXPLAIN ${sql}`)).raw().all() as ProgramRow[];
  }

  async #resultRoot(): Promise<number> {
    const [[page]] = await (await this.#db.prepare(
      `SELECT rootpage FROM temp.sqlite_master WHERE name = '${RESULT}'`,
    )).raw().all() as [[number]];
    return page;
  }
}
