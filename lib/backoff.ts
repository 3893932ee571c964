/**
 * Exponential backoff with jitter, for retrying a peer that is away: each
 * failure doubles the ceiling up to a cap, and the wait is drawn uniformly
 * between half the ceiling and the ceiling, so that many clients that lost
 * their site together do not all come back in the same second.
 *
 * @module
 */
export class Backoff {
  readonly #baseMs: number;
  readonly #capMs: number;
  readonly #random: () => number;
  #failures = 0;

  constructor(baseMs = 1_000, capMs = 300_000, random: () => number = Math.random) {
    this.#baseMs = baseMs;
    this.#capMs = capMs;
    this.#random = random;
  }

  get failures(): number {
    return this.#failures;
  }

  /** Records a failure and returns how long to wait before the next try. */
  fail(): number {
    const ceiling = Math.min(this.#capMs, this.#baseMs * 2 ** this.#failures);
    this.#failures++;
    return Math.round(ceiling / 2 + this.#random() * ceiling / 2);
  }

  /** Records a success: the next failure starts from the base again. */
  succeed(): void {
    this.#failures = 0;
  }
}
