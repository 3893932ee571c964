/**
 * `fetch` that trusts a private certificate authority, for agents and child
 * sites talking to a site that serves HTTPS with a certificate from the
 * organisation's own CA (`--ca FILE`, `--parent-ca FILE`). Certificates are
 * always verified: with no CA file, against the system's roots. Idle
 * connections are closed after a few seconds, not kept for reuse.
 *
 * @module
 */

/**
 * How long an idle connection is kept for reuse. A sync and the wait for
 * rules that follows it share one; beyond that an agent talks to its site
 * every few minutes, and 50,000 agents each holding an idle connection
 * for the default 90 s would hold as many of the site's open files.
 */
const IDLE_CONNECTION_MS = 5_000;

/** A fetch trusting the CA certificates in `caFile` (PEM) if given, keeping idle connections briefly. */
export function fetchTrusting(caFile: string | undefined): typeof fetch {
  let pem: string | undefined;
  try {
    pem = caFile ? Deno.readTextFileSync(caFile) : undefined;
  } catch (error) {
    throw new Error(`cannot read the CA certificate ${caFile}: ${(error as Error).message}`);
  }
  const client = Deno.createHttpClient({
    ...(pem ? { caCerts: [pem] } : {}),
    poolIdleTimeout: IDLE_CONNECTION_MS,
  });
  return (input, init) => fetch(input, { ...init, client });
}
