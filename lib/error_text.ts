/**
 * What went wrong, in words, with its cause: `fetch` says only "fetch
 * failed" and keeps the reason (an unknown certificate issuer, a refused
 * connection) in `cause`, which an operator reading the log needs.
 *
 * @module
 */
export function errorText(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const cause = error instanceof Error ? error.cause : undefined;
  if (cause === undefined) return message;
  return `${message}: ${cause instanceof Error ? cause.message : String(cause)}`;
}
