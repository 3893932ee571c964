/**
 * The shared memory by which the agent's thread steers the process events'
 * thread (`process_events.ts`, `process_events_worker.ts`): an `Int32Array`
 * of two counters, written with `Atomics` and followed by a byte on the
 * wake pipe.
 *
 * @module
 */

/** Set to 1 to stop the thread. */
export const STOP = 0;
/** How many flushes the agent asked for; the thread answers with the last it saw. */
export const FLUSHES = 1;
export const CONTROL_LENGTH = 2;
