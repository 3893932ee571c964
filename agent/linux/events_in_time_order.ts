/**
 * The process events' thread reads exec and exit events from two sockets
 * (`process_events_worker.ts`); the agent must handle them in the order
 * they happened, an exec before the exit of the same process.
 *
 * @module
 */
import type { ProcConnectorItem, ProcEvent } from "./proc_connector.ts";

/**
 * Two lists of events, each in the kernel's order, as one in time order (a
 * stable sort: on a tie the exec, from `execs`, stays first); a loss, which
 * has no time and makes the agent rescan, goes last, once.
 */
export function inTimeOrder(
  execs: ProcConnectorItem[],
  exits: ProcConnectorItem[],
): ProcConnectorItem[] {
  if (exits.length === 0) return execs;
  const all = [...execs, ...exits];
  const events = all.filter((item): item is ProcEvent => item.type !== "lost");
  events.sort((a, b) => a.monotonicNs < b.monotonicNs ? -1 : a.monotonicNs > b.monotonicNs ? 1 : 0);
  return events.length < all.length ? [...events, { type: "lost" }] : events;
}
