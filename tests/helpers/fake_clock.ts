/**
 * A clock a test moves by hand, for the agent's core: what depends on time
 * (a session's start and end, "before the agent started", due times) is then
 * checked to the millisecond without waiting.
 *
 * @module
 */
import type { Clock } from "../../lib/clock.ts";

export class FakeClock implements Clock {
  #ms: number;

  /** Starts at `ms` (default 2026-01-05 09:00 UTC, a Monday). */
  constructor(ms = Date.UTC(2026, 0, 5, 9)) {
    this.#ms = ms;
  }

  now(): number {
    return this.#ms;
  }

  /** Moves the clock on by `ms`. */
  advance(ms: number): void {
    this.#ms += ms;
  }
}
