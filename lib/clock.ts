/**
 * A clock to read the time from, so that what depends on time (the agent's
 * session recorder and its loop's due times) can be tested with a clock a
 * test moves by hand, in milliseconds, without waiting. Timers stay real.
 *
 * @module
 */

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

/** The computer's clock. */
export const systemClock: Clock = { now: () => Date.now() };
