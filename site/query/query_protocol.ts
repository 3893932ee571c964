/**
 * What the site and its query processes say to each other: a query with its
 * row and time limits and the format wanted, and the answer, either the
 * encoded result or an error already in the API's terms (status, code,
 * message). Both travel as frames (`frames.ts`).
 *
 * @module
 */
import type { ResultFormat } from "./result_encoding.ts";

export interface QueryRequest {
  sql: string;
  /** Rows returned at most; one more is read to tell whether there were more. */
  limit: number;
  /** The statement is interrupted after this long. */
  timeoutMs: number;
  format: ResultFormat;
}

export type QueryFailure = { ok: false; status: 400 | 408 | 500; code: string; message: string };

export type QueryReply =
  | { ok: true; truncated: boolean; format: ResultFormat; body: Uint8Array<ArrayBuffer> }
  | QueryFailure;

/** Site to query process: run one query on the database file `file`. */
export interface RequestHeader {
  id: number;
  file: string;
  request: QueryRequest;
}

/**
 * Query process to site: first `{ready: true}` once it has started, then the
 * answer to each request `id`, the result's bytes following it.
 */
export type ReplyHeader =
  | { ready: true }
  | (
    & { id: number; bodyBytes?: number }
    & ({ ok: true; truncated: boolean; format: ResultFormat } | QueryFailure)
  );

/** The most a query process's SQLite may allocate: its pages, sorts, temp tables and rows. */
export const QUERY_MEMORY_BYTES = 128 * 1024 * 1024;

/** The most an encoded result may hold. */
export const MAX_RESULT_BYTES = 64 * 1024 * 1024;

/** The answer to a query stopped at its time limit. */
export function timeoutReply(timeoutMs: number): QueryFailure {
  return {
    ok: false,
    status: 408,
    code: "query_timeout",
    message: `the query ran longer than its time limit (${timeoutMs / 1000} s) and was stopped; ` +
      "narrow it (a WHERE on a time column, fewer joins) or raise timeoutMs",
  };
}

/** The answer to a query that needed more memory than a query may have. */
export function memoryReply(): QueryFailure {
  return {
    ok: false,
    status: 400,
    code: "query_too_large",
    message: `the query needed more than ${QUERY_MEMORY_BYTES / 2 ** 20} MiB of memory ` +
      "(for its values, sorting, grouping or rows) and was stopped; narrow it",
  };
}
