/**
 * Tells the person running the agent when this computer's clock is off the
 * site's by more than the site tolerates: the site corrects the times it
 * receives (see `sync/clock_offset.ts`), but a clock hours wrong is worth
 * fixing. Logged when the clock goes wrong and when it is right again, not
 * at every sync.
 *
 * @module
 */
import { CLOCK_TOLERANCE_MS } from "../../sync/mod.ts";
import { log } from "../../lib/log.ts";

export class ClockCheck {
  #wrong = false;

  /** Compares the site's clock in a reply with this computer's when it arrived. */
  check(siteNow: number, localNow = Date.now()): void {
    if (siteNow <= 0) return; // no reply carried the site's clock
    const offsetMs = siteNow - localNow;
    const wrong = Math.abs(offsetMs) >= CLOCK_TOLERANCE_MS;
    if (wrong === this.#wrong) return;
    this.#wrong = wrong;
    const offsetSeconds = Math.round(offsetMs / 1000);
    if (wrong) {
      log.warn("this computer's clock is off the site's; the site corrects usage times", {
        offsetSeconds,
      });
    } else log.info("this computer's clock agrees with the site's again", { offsetSeconds });
  }
}
