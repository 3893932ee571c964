/**
 * The agent's wait for new rules between syncs (`GET /v1/sync/wait`,
 * `sync/rules_wait.ts`). Each sync leaves the agent with the version of the
 * rules it follows; the watch asks the site to answer when that version is
 * gone, and calls `onChanged` (which syncs) when it is. It then rests until
 * the next sync gives it the new version, so it never runs while the site
 * is away. A site too old to know waits (404) gets no more of them: its
 * agents hear of rules at their syncs, as before.
 *
 * @module
 */
import { log } from "../../lib/log.ts";
import { SyncError, waitForRules } from "../../sync/mod.ts";

/** How long each wait asks the site to hold it. */
const WAIT_SECONDS = 50;
/** After a failed wait: the next sync, or this, whichever comes first, tries again. */
const AFTER_FAILURE_MS = 60_000;

export interface RulesWatchOptions {
  site: string;
  authorization: () => string;
  onChanged: () => void;
  fetch?: typeof fetch;
}

export class RulesWatch {
  readonly #o: RulesWatchOptions;
  #version: string | undefined;
  #running = false;
  #unsupported = false;
  readonly #stop = new AbortController();

  constructor(options: RulesWatchOptions) {
    this.#o = options;
  }

  /** The version a sync left the agent with: wait on it (none: rest). */
  follow(version: string | undefined): void {
    this.#version = version;
    if (version && !this.#running && !this.#unsupported && !this.#stop.signal.aborted) {
      this.#running = true;
      this.#loop().finally(() => this.#running = false);
    }
  }

  stop(): void {
    this.#stop.abort();
  }

  async #loop(): Promise<void> {
    while (this.#version && !this.#stop.signal.aborted) {
      const asked = this.#version;
      const waitMs = await this.#waitOnce(asked);
      // Changed: the sync that follows gives the next version to wait on.
      if (waitMs === undefined) {
        if (this.#version === asked) {
          this.#version = undefined;
          this.#o.onChanged();
        }
        return;
      }
      if (waitMs > 0) await this.#sleep(waitMs);
    }
  }

  /** One wait: undefined if the rules changed, else how long to rest before the next. */
  async #waitOnce(version: string): Promise<number | undefined> {
    try {
      const reply = await waitForRules({
        site: this.#o.site,
        authorization: this.#o.authorization(),
        rulesVersion: version,
        seconds: WAIT_SECONDS,
        fetch: this.#o.fetch,
        signal: this.#stop.signal,
      });
      return reply.changed ? undefined : reply.waitAgainAfter * 1000;
    } catch (error) {
      if (this.#stop.signal.aborted) return 0;
      if (error instanceof SyncError && error.status === 404) {
        this.#unsupported = true;
        this.#version = undefined;
        return 0;
      }
      log.debug("waiting for rules failed", { error: (error as Error).message });
      const retryAfter = error instanceof SyncError ? error.retryAfterMs ?? 0 : 0;
      return Math.max(retryAfter, AFTER_FAILURE_MS);
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const signal = this.#stop.signal;
      signal.addEventListener("abort", done, { once: true });
      function done() {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      }
    });
  }
}
