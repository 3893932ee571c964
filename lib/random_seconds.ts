/**
 * A whole number of seconds drawn evenly between `low` and `high`: when a
 * site tells many agents to come back, each gets a moment of its own, so
 * that they do not all return at once.
 *
 * @module
 */
export function randomSeconds(low: number, high: number): number {
  return Math.round(low + Math.random() * (high - low));
}
