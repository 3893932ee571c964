/**
 * Whether a record already holds these bytes: writers compare before they
 * put, so that an unchanged value makes no Automerge change and a sync with
 * nothing new sends nothing.
 *
 * @module
 */
export function sameBytes(a: Uint8Array | undefined, b: Uint8Array): boolean {
  if (a === undefined || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
