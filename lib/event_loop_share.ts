/**
 * Long background work that gives the event loop back every few
 * milliseconds. The site's libSQL connection is embedded: each read runs on
 * the site's own thread, and `await`ing it only yields to other promises, not
 * to sockets and timers. A summariser run of a 2,000-computer fleet reads
 * thousands of small results back to back and held every sync request up for
 * 300–460 ms at a time under the load test. Pausing for one turn of the event
 * loop once `budgetMs` of work has passed bounds that wait to about one
 * budget, at the cost of a turn per budget.
 *
 * @module
 */
import { setImmediate } from "node:timers";

export class EventLoopShare {
  readonly #budgetMs: number;
  #since = performance.now();

  /** `budgetMs`: the longest stretch of work between two turns of the event loop. */
  constructor(budgetMs = 10) {
    this.#budgetMs = budgetMs;
  }

  /** Lets waiting I/O and timers run when the budget is spent; otherwise returns at once. */
  async turn(): Promise<void> {
    if (performance.now() - this.#since < this.#budgetMs) return;
    await new Promise((resolve) => setImmediate(resolve));
    this.#since = performance.now();
  }
}
