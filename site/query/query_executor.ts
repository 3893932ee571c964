/**
 * Runs one query on its own read-only connection, inside a query worker.
 *
 * The database file is opened with `mode=ro`, so the site's tables cannot be
 * changed from it whatever runs; `temp` stays writable for the views and the
 * result. A query runs in one read transaction:
 *
 * 1. its text must be one `SELECT`/`WITH`/`VALUES` statement
 *    (`statement_text.ts`);
 * 2. it is compiled alone, must return columns, and its program must open
 *    only the query tables (`program_check.ts`);
 * 3. it runs as `INSERT INTO temp.meter_result SELECT * FROM (<query>) LIMIT
 *    n + 1`, whose program is checked the same way. SQLite parses that only
 *    when the query really is a query, and runs it in one step on libSQL's
 *    own thread (the `libsql/promise` API), so the worker's timer can
 *    interrupt it at the time limit, however the query spends its time;
 * 4. the rows are read back from `temp` (at most `n + 1`, and at most
 *    {@linkcode MAX_RESULT_BYTES}), and the transaction is rolled back,
 *    which also drops the result table.
 *
 * @module
 */
import Database from "libsql/promise";
import { checkProgram, type ProgramRow, type ProgramRules } from "./program_check.ts";
import {
  type QueryReply,
  type QueryRequest,
  type QueryResult,
  timeoutReply,
} from "./query_protocol.ts";
import { QUERY_TABLES, QUERY_VIEWS, viewStatements } from "./query_views.ts";
import { QueryRefusal, singleQuery } from "./statement_text.ts";

/** The most a result may hold, counting each value's length as text or bytes. */
export const MAX_RESULT_BYTES = 64 * 1024 * 1024;

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

/** A value as JSON can carry it: big integers as text, blobs as hex. */
function cellValue(value: unknown): unknown {
  if (typeof value === "bigint") {
    const n = Number(value);
    return Number.isSafeInteger(n) ? n : value.toString();
  }
  if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) {
    const bytes = value instanceof ArrayBuffer
      ? new Uint8Array(value)
      : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  }
  return value;
}

function isSqliteError(error: unknown): error is Error & { code: string } {
  const code = (error as { code?: unknown } | null)?.code;
  return error instanceof Error && typeof code === "string" && code.startsWith("SQLITE_");
}

/** Opens `file` read-only and creates the query views in its `temp`. */
async function connect(file: string): Promise<Connection> {
  const db = new Database(readOnlyUri(file), { timeout: 5 }) as unknown as Connection;
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

  async run({ sql, limit, timeoutMs }: QueryRequest): Promise<QueryReply> {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      this.#db.interrupt();
    }, timeoutMs);
    try {
      const body = singleQuery(sql);
      return { ok: true, result: await this.#inTransaction(() => this.#query(body, limit)) };
    } catch (error) {
      if (timedOut) return timeoutReply(timeoutMs);
      if (error instanceof QueryRefusal) {
        return { ok: false, status: 400, code: error.code, message: error.message };
      }
      if (isSqliteError(error)) {
        return { ok: false, status: 400, code: "invalid_query", message: error.message };
      }
      throw error;
    } finally {
      clearTimeout(timer);
      // An interrupt can outlive its statement on this connection: start afresh.
      if (timedOut) await this.#reconnect();
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

  async #query(body: string, limit: number): Promise<QueryResult> {
    const rules = await this.#rules();
    const columns = await this.#columns(body, rules);
    const names = columns.map((_, i) => `c${i}`);
    await this.#fill(body, names, limit + 1, rules);
    await this.#checkSize(names);
    const stored = await (await this.#db.prepare(`SELECT * FROM temp.${RESULT} ORDER BY rowid`))
      .raw().safeIntegers().all() as unknown[][];
    return {
      columns,
      rows: stored.slice(0, limit).map((row) => row.map(cellValue)),
      truncated: stored.length > limit,
    };
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

  /** What may be read: the query tables' root pages, read now, in this transaction. */
  async #rules(): Promise<ProgramRules> {
    const schema = await (await this.#db.prepare(
      "SELECT rootpage, tbl_name FROM main.sqlite_schema WHERE rootpage > 0",
    )).raw().all() as [number, string][];
    const names = new Map<number, string>([[1, "sqlite_schema"]]);
    const readable = new Set<number>();
    for (const [page, table] of schema) {
      names.set(page, table);
      if (QUERY_TABLES.includes(table)) readable.add(page);
    }
    return { readable, names, views: QUERY_VIEWS.map((view) => view.name) };
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

  async #checkSize(names: string[]): Promise<void> {
    const totals = names.map((name) => `total(length(${name}))`).join(", ");
    const [sums] = await (await this.#db.prepare(`SELECT ${totals} FROM temp.${RESULT}`))
      .raw().all() as [number[]];
    const bytes = sums.reduce((sum, n) => sum + n, 0);
    if (bytes > MAX_RESULT_BYTES) {
      throw new QueryRefusal(
        `the result holds about ${Math.round(bytes / 2 ** 20)} MiB, more than ` +
          `${MAX_RESULT_BYTES / 2 ** 20} MiB; select fewer rows or columns`,
        "result_too_large",
      );
    }
  }
}
