/**
 * The time the agent's core reads: the session recorder's "before the agent
 * started" and "full since", and the loop's due times. A test passes its own
 * clock and moves it by hand, so what depends on time is checked in
 * milliseconds without waiting; timers themselves stay real.
 *
 * @module
 */

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

/** The computer's clock. */
export const systemClock: Clock = { now: () => Date.now() };
