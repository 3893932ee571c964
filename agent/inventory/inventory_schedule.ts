/**
 * When the agent takes its inventory: once at start, then every `interval`
 * (default a day), and soon after installed software changes. Every `check`
 * (default 10 s) it reads the software signature; a change is acted on once
 * the signature has stayed the same for one more check, because an install
 * rewrites the package database several times; a signature that never
 * settles (a state file some daemon rewrites all the time) delays a run by at
 * most `MAX_DEFERRALS` checks. While executables' hashes are
 * still pending, the next run comes after `pendingRetry` instead of a day.
 * Runs never overlap.
 *
 * @module
 */
import { log } from "../../lib/log.ts";
import { softwareSignature } from "./software_change_watch.ts";

/** Checks a changing signature may put a run off by. */
export const MAX_DEFERRALS = 6;

export interface InventoryScheduleOptions {
  intervalMs: number;
  checkMs: number;
  pendingRetryMs?: number;
  /** Takes the inventory; resolves to how many hashes are still pending. */
  run(reason: string): Promise<number>;
  signature?: () => Promise<string>;
}

export class InventorySchedule {
  readonly #o: Required<InventoryScheduleOptions>;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #running: Promise<unknown> = Promise.resolve();
  #lastSignature: string | undefined;
  #changed = false;
  #deferrals = 0;
  #dueAt = 0;
  #stopped = false;

  constructor(options: InventoryScheduleOptions) {
    this.#o = { pendingRetryMs: 60_000, signature: softwareSignature, ...options };
  }

  start(): void {
    this.#schedule(0);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running.catch(() => {});
  }

  #schedule(delay: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#running = this.#tick().finally(() => this.#schedule(this.#o.checkMs));
    }, delay);
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
    if (!this.#changed && Date.now() < this.#dueAt) return;
    const reason = first ? "start" : this.#changed ? "software changed" : "schedule";
    this.#changed = false;
    try {
      const pending = await this.#o.run(reason);
      this.#dueAt = Date.now() + (pending > 0 ? this.#o.pendingRetryMs : this.#o.intervalMs);
    } catch (error) {
      log.error("inventory failed", { error });
      this.#dueAt = Date.now() + this.#o.pendingRetryMs;
    }
  }
}
