/**
 * The address a request came from: `Deno.serve` hands its connection info to
 * Hono as the env. For the audit log and per-address limits.
 *
 * @module
 */
export function peerAddress(env: unknown): string {
  const addr = (env as { remoteAddr?: { hostname?: string } } | undefined)?.remoteAddr;
  return addr?.hostname ?? "unknown";
}
