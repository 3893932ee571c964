/**
 * The site's licence refresh: run every `licenceRefreshSeconds` and on
 * demand (`POST /v1/licences/refresh`), one at a time, each batch stored
 * under the site's write lock like every other write of the site. Each
 * refresh ends by judging the new positions for alerts
 * (`licence_alerts.ts`).
 *
 * @module
 */
import { log } from "../../lib/log.ts";
import { Mutex } from "../../lib/mutex.ts";
import type { Store } from "../../store/store.ts";
import type { InStatement } from "../../store/db.ts";
import type { SiteSettings } from "../site_settings.ts";
import { type LicenceRefresh, refreshLicences } from "./licence_refresher.ts";
import { recordAlerts } from "./licence_alerts.ts";
import { licencePositions } from "./licence_positions.ts";
import { listLicences } from "./licences_table.ts";

export class LicenceRefreshTask {
  readonly #site: Store;
  readonly #ancestors: () => string[];
  readonly #settings: () => Pick<SiteSettings, "rawRetentionDays" | "alertWebhookUrl">;
  readonly #one = new Mutex();

  constructor(
    site: Store,
    ancestors: () => string[],
    settings: () => Pick<SiteSettings, "rawRetentionDays" | "alertWebhookUrl">,
  ) {
    this.#site = site;
    this.#ancestors = ancestors;
    this.#settings = settings;
  }

  /** Refreshes the figures, then records the alerts the new positions call for. */
  refresh(now = Date.now()): Promise<LicenceRefresh & { events: number }> {
    const site = this.#site;
    return this.#one.run(async () => {
      const place = {
        db: site.db,
        code: site.code,
        ancestors: this.#ancestors(),
        rawRetentionDays: this.#settings().rawRetentionDays,
        write: (statements: InStatement[]) =>
          site.lock.run(() => site.db.batch(statements, "write")),
      };
      const done = await refreshLicences(place, now, progressLog());
      const alertAt = new Map((await listLicences(site.db)).map((l) => [l.id, l.alertAtPercent]));
      const positions = (await licencePositions(place, now)).map((position) => ({
        position,
        alertAtPercent: alertAt.get(position.licenceId) ?? null,
      }));
      const events = await recordAlerts(
        site.db,
        place.write,
        positions,
        this.#settings().alertWebhookUrl,
        now,
      );
      log.debug("licence positions refreshed", { ...done, events });
      return { ...done, events };
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
