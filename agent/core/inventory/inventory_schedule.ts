/**
 * When the agent takes its inventory: once at start, then every `interval`
 * (default a day), and soon after installed software changes. Every `check`
 * (default 10 s) it reads the software signature; a change is acted on once
 * the signature has stayed the same for one more check, because an install
 * rewrites the package database several times; a signature that never
 * settles (a state file some daemon rewrites all the time) delays a run by at
 * most `MAX_DEFERRALS` checks. While executables' hashes are
 * still pending, the next run comes after `pendingRetry` instead of a day.
 * Runs never overlap: the checks are one {@linkcode RepeatingTask}, and a run
 * is part of a check.
 *
 * @module
 */
import { log } from "../../../lib/log.ts";
import { RepeatingTask } from "../../../lib/repeating_task.ts";
import { type Clock, systemClock } from "../../../lib/clock.ts";

/** Checks a changing signature may put a run off by. */
export const MAX_DEFERRALS = 6;

export interface InventoryScheduleOptions {
  intervalMs: number;
  checkMs: number;
  pendingRetryMs?: number;
  /** Takes the inventory; resolves to how many hashes are still pending. */
  run(reason: string): Promise<number>;
  /** Changes when installed software does (the platform's software signature). */
  signature: () => Promise<string>;
  clock?: Clock;
}

export class InventorySchedule {
  readonly #o: Required<InventoryScheduleOptions>;
  readonly #checks: RepeatingTask;
  #lastSignature: string | undefined;
  #changed = false;
  #deferrals = 0;
  #dueAt = 0;

  constructor(options: InventoryScheduleOptions) {
    this.#o = { pendingRetryMs: 60_000, clock: systemClock, ...options };
    this.#checks = new RepeatingTask("inventory check", () => this.#o.checkMs, () => this.#tick());
  }

  start(): void {
    this.#checks.start(0);
  }

  stop(): Promise<void> {
    return this.#checks.stop();
  }

  async #tick(): Promise<void> {
    const signature = await this.#o.signature();
    const first = this.#lastSignature === undefined;
    if (!first && signature !== this.#lastSignature && this.#deferrals < MAX_DEFERRALS) {
      // Installing: wait until the package database has settled.
      this.#lastSignature = signature;
      this.#changed = true;
      this.#deferrals++;
      return;
    }
    this.#lastSignature = signature;
    this.#deferrals = 0;
    if (!this.#changed && this.#o.clock.now() < this.#dueAt) return;
    const reason = first ? "start" : this.#changed ? "software changed" : "schedule";
    this.#changed = false;
    try {
      const pending = await this.#o.run(reason);
      this.#dueAt = this.#o.clock.now() +
        (pending > 0 ? this.#o.pendingRetryMs : this.#o.intervalMs);
    } catch (error) {
      log.error("inventory failed", { error });
      this.#dueAt = this.#o.clock.now() + this.#o.pendingRetryMs;
    }
  }
}
