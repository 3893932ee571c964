/**
 * `fetch` that trusts a private certificate authority, for agents and child
 * sites talking to a site that serves HTTPS with a certificate from the
 * organisation's own CA (`--ca FILE`, `--parent-ca FILE`). Certificates are
 * always verified: with no CA file, against the system's roots.
 *
 * @module
 */

/** A fetch trusting the CA certificates in `caFile` (PEM), or undefined for the default. */
export function fetchTrusting(caFile: string | undefined): typeof fetch | undefined {
  if (!caFile) return undefined;
  let pem: string;
  try {
    pem = Deno.readTextFileSync(caFile);
  } catch (error) {
    throw new Error(`cannot read the CA certificate ${caFile}: ${(error as Error).message}`);
  }
  const client = Deno.createHttpClient({ caCerts: [pem] });
  return (input, init) => fetch(input, { ...init, client });
}
