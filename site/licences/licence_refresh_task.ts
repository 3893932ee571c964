/**
 * The site's licence refresh: run every `licenceRefreshSeconds` and on
 * demand (`POST /v1/licences/refresh`), one at a time, each batch stored
 * under the site's write lock like every other write of the site.
 *
 * @module
 */
import { log } from "../../lib/log.ts";
import { Mutex } from "../../lib/mutex.ts";
import type { Store } from "../../store/store.ts";
import type { SiteSettings } from "../site_settings.ts";
import { type LicenceRefresh, refreshLicences } from "./licence_refresher.ts";

export class LicenceRefreshTask {
  readonly #site: Store;
  readonly #ancestors: () => string[];
  readonly #settings: () => Pick<SiteSettings, "rawRetentionDays">;
  readonly #one = new Mutex();

  constructor(
    site: Store,
    ancestors: () => string[],
    settings: () => Pick<SiteSettings, "rawRetentionDays">,
  ) {
    this.#site = site;
    this.#ancestors = ancestors;
    this.#settings = settings;
  }

  refresh(now = Date.now()): Promise<LicenceRefresh> {
    const site = this.#site;
    return this.#one.run(async () => {
      const done = await refreshLicences(
        {
          db: site.db,
          code: site.code,
          ancestors: this.#ancestors(),
          rawRetentionDays: this.#settings().rawRetentionDays,
          write: (statements) => site.lock.run(() => site.db.batch(statements, "write")),
        },
        now,
        progressLog(),
      );
      log.debug("licence positions refreshed", { ...done });
      return done;
    });
  }
}

/** Logs how far a long refresh (the first on a large fleet) has come, every 10 seconds. */
function progressLog(): (done: number, total: number) => void {
  let next = Date.now() + 10_000;
  return (done, total) => {
    if (Date.now() < next) return;
    next = Date.now() + 10_000;
    log.info("refreshing licence positions", { done, total });
  };
}
