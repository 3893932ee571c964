/**
 * What the site and its query workers say to each other: a query with its
 * row and time limits, and the answer, either the rows or an error already
 * in the API's terms (status, code, message).
 *
 * @module
 */

export interface QueryRequest {
  sql: string;
  /** Rows returned at most; one more is read to tell whether there were more. */
  limit: number;
  /** The statement is interrupted after this long. */
  timeoutMs: number;
}

export interface QueryResult {
  columns: string[];
  /** One array per row, in column order. */
  rows: unknown[][];
  /** True when the query had more rows than `limit`. */
  truncated: boolean;
}

export type QueryReply =
  | { ok: true; result: QueryResult }
  | { ok: false; status: 400 | 408 | 500; code: string; message: string };

/** Site to worker: run one query on the database file `file`. */
export interface WorkerRequest {
  id: number;
  file: string;
  request: QueryRequest;
}

/** Worker to site: the reply to request `id`. */
export interface WorkerReply {
  id: number;
  reply: QueryReply;
}

/** The answer to a query stopped at its time limit. */
export function timeoutReply(timeoutMs: number): QueryReply {
  return {
    ok: false,
    status: 408,
    code: "query_timeout",
    message: `the query ran longer than its time limit (${timeoutMs / 1000} s) and was stopped; ` +
      "narrow it (a WHERE on a time column, fewer joins) or raise timeoutMs",
  };
}
