/**
 * 32-bit FNV-1a of `text[start, end)`, by UTF-16 code unit: a cheap, stable
 * hash for spreading keys (dpkg's file index, summary shards).
 *
 * @module
 */
export function fnv1a(text: string, start = 0, end = text.length): number {
  let hash = 0x811c9dc5;
  for (let i = start; i < end; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
