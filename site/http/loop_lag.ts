/**
 * How far behind the site's thread is with its requests, told by how late
 * its timers run. Deno's server reads requests as the thread gets to them,
 * so when more come than the thread can answer they wait unseen; a timer
 * due every 100 ms then fires later and later. A site that kept taking
 * syncs then had tens of thousands of connections waiting, answered them
 * after the agents had given up (30 s) and come back, ran out of open files,
 * and stopped answering at all. Past {@linkcode BUSY_LAG_MS} the site is
 * {@linkcode LoopLag.behind}: it answers syncs at once with 429 and a time
 * to come back, which costs far less than a sync, until the lag falls below
 * half of it. The idea is the one of Node's `toobusy`.
 *
 * @module
 */
import { log } from "../../lib/log.ts";

/** The lag past which the site is behind: twice the longest pause it makes itself (a checkpoint). */
export const BUSY_LAG_MS = 200;

const TICK_MS = 100;
/**
 * The weight of each tick's lateness. A lag that lasts reaches the threshold
 * within a second or so; one pause (a garbage collection, a checkpoint) does
 * not, and every other request is still answered.
 */
const WEIGHT = 0.3;

export class LoopLag {
  #timer: ReturnType<typeof setInterval> | undefined;
  #last = 0;
  #lag = 0;
  #behind = false;

  constructor(readonly busyLagMs = BUSY_LAG_MS) {}

  /** Starts measuring; the timer does not keep the process alive. */
  start(): this {
    this.#last = performance.now();
    const timer = setInterval(() => this.#tick(), TICK_MS);
    Deno.unrefTimer(timer);
    this.#timer = timer;
    return this;
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** How late the timer runs, ms, as a moving average of its ticks. */
  get ms(): number {
    return this.#lag;
  }

  /** Past `busyLagMs`, and not yet back under half of it. */
  get behind(): boolean {
    return this.#behind;
  }

  #tick(): void {
    const now = performance.now();
    const late = Math.max(0, now - this.#last - TICK_MS);
    this.#last = now;
    this.#lag = this.#lag * (1 - WEIGHT) + late * WEIGHT;
    if (!this.#behind && this.#lag > this.busyLagMs) {
      this.#behind = true;
      log.warn("the site is behind with its requests; answering syncs 429 for now", {
        lagMs: Math.round(this.#lag),
      });
    } else if (this.#behind && this.#lag < this.busyLagMs / 2) {
      this.#behind = false;
      log.info("the site caught up with its requests", { lagMs: Math.round(this.#lag) });
    }
  }
}
