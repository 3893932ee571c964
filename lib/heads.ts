/**
 * Helpers for Automerge heads (the hashes of a document's latest changes),
 * which are compared and stored as one sorted, space-separated string.
 *
 * @module
 */
import type { Heads } from "@automerge/automerge";

/** The canonical text form of heads: sorted and space-separated. */
export function headsKey(heads: readonly string[]): string {
  return [...heads].sort().join(" ");
}

/** Parses the text form written by {@linkcode headsKey}. */
export function parseHeadsKey(key: string): Heads {
  return key === "" ? [] : key.split(" ");
}

/** True when both hold the same hashes, in any order. */
export function sameHeads(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && headsKey(a) === headsKey(b);
}
