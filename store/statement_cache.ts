/**
 * Prepared statements reused per embedded libSQL connection, by SQL text.
 *
 * `@libsql/client` prepares every statement it runs anew
 * (`Database.prepare` of the `libsql` package, once per `execute` and per
 * statement of a `batch`). A prepared statement's native memory, about 2.5
 * KB, is freed only when V8 collects its wrapper and the event loop then
 * runs its finalizer, and even then about 50 bytes of each stay behind. So a
 * busy process's native heap grew for ever: under the 2,000-agent load the
 * site's grew by about 10 MB a minute, and a loop of 50,000 inserts grew it by
 * 2.5 MB a round, round after round, where the same inserts through one
 * statement prepared once left it flat.
 *
 * {@linkcode reusePreparedStatements} makes `Database.prepare` hand out the
 * connection's statement for the same text instead, so a process prepares
 * each of its few hundred statement texts once per connection. Statements
 * run to completion synchronously (`run`, `all`), so one statement is never
 * used twice at once. A statement whose run failed is dropped from the cache,
 * so one left mid-way is never handed out again. Texts that vary (values
 * written into them) are bounded by keeping the most recently used
 * {@linkcode STATEMENTS_PER_CONNECTION}.
 *
 * @module
 */
import Database from "libsql";
import { RecentMap } from "../lib/recent_map.ts";

/** Statement texts kept per connection, the least recently used dropped first. */
export const STATEMENTS_PER_CONNECTION = 500;

interface Statement {
  run(...args: unknown[]): unknown;
  get(...args: unknown[]): unknown;
  all(...args: unknown[]): unknown;
}

type Prepare = (this: object, sql: string) => Statement;

const statements = new WeakMap<object, RecentMap<string, Statement>>();
/** Statements prepared (not reused) in this process, for tests and figures. */
let prepared = 0;
let installed = false;

/** Installs the cache on every `libsql` connection (idempotent). */
export function reusePreparedStatements(): void {
  if (installed) return;
  installed = true;
  const prototype = (Database as unknown as { prototype: { prepare: Prepare } }).prototype;
  const prepare = prototype.prepare;
  prototype.prepare = function (sql: string): Statement {
    let cache = statements.get(this);
    if (!cache) statements.set(this, cache = new RecentMap(STATEMENTS_PER_CONNECTION));
    const cached = cache.get(sql);
    if (cached) return cached;
    const statement = dropOnFailure(prepare.call(this, sql), () => cache.delete(sql));
    prepared++;
    cache.set(sql, statement);
    return statement;
  };
}

/** Statements prepared in this process since the cache was installed (reused ones not counted). */
export function statementsPrepared(): number {
  return prepared;
}

/** Wraps the statement's runs so that a failed one drops it from the cache. */
function dropOnFailure(statement: Statement, drop: () => void): Statement {
  for (const method of ["run", "get", "all"] as const) {
    const run = statement[method];
    statement[method] = function (this: Statement, ...args: unknown[]) {
      try {
        return run.apply(this, args);
      } catch (error) {
        drop();
        throw error;
      }
    };
  }
  return statement;
}
