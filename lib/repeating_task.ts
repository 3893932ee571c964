/**
 * Background work on a schedule: a task run again a while after it last
 * finished (never overlapping itself), the wait read anew each time so that
 * a changed setting applies at once, errors logged rather than fatal, and a
 * `stop()` that waits for the run under way.
 *
 * @module
 */
import { log } from "./log.ts";

export class RepeatingTask {
  readonly #name: string;
  readonly #everyMs: () => number;
  readonly #task: () => Promise<unknown>;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #running: Promise<unknown> = Promise.resolve();
  #stopped = false;

  constructor(name: string, everyMs: () => number, task: () => Promise<unknown>) {
    this.#name = name;
    this.#everyMs = everyMs;
    this.#task = task;
  }

  start(firstDelayMs = this.#everyMs()): void {
    this.#schedule(firstDelayMs);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running.catch(() => {});
  }

  #schedule(delay: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#running = this.#task()
        .catch((error) => log.error(`${this.#name} failed`, { error }))
        .finally(() => this.#schedule(this.#everyMs()));
    }, delay);
  }
}
