/**
 * Recognising a full disk under the agent's database: SQLite answers
 * `SQLITE_FULL` ("database or disk is full") when its file or write-ahead
 * log cannot grow, and a file write fails with `ENOSPC` ("No space left on
 * device"). The agent then keeps what it must write in memory and tries
 * again, instead of treating it as a failure of the work itself.
 *
 * @module
 */

/** Is this the error of a write that found no space left? */
export function isDiskFull(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (code === "SQLITE_FULL" || code === "ENOSPC") return true;
  return /database or disk is full|no space left on device/i.test(error.message);
}
