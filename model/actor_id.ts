/**
 * Automerge actor ids of a peer. A peer enrols with one actor id (16 random
 * bytes, 32 hex digits); each usage document it creates is written by a
 * generation of it: the enrolled id followed by a 4-byte counter. A document
 * the agent deleted and must create again (a late session for an old day)
 * thus never reuses an actor's sequence numbers that the site already holds,
 * which Automerge would refuse. The site accepts an actor when it is a bound
 * actor or a generation of one.
 *
 * @module
 */

const BASE_LENGTH = 32;

/** The actor id of the `generation`th document a peer creates. */
export function generationActor(base: string, generation: number): string {
  return base + generation.toString(16).padStart(8, "0");
}

/** True when `actor` is one of `bound` or a generation of one. */
export function isActorOf(bound: ReadonlySet<string>, actor: string): boolean {
  if (bound.has(actor)) return true;
  return actor.length === BASE_LENGTH + 8 && /^[0-9a-f]+$/.test(actor) &&
    bound.has(actor.slice(0, BASE_LENGTH));
}
