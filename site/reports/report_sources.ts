/**
 * What a report reads, and nothing more: the site's database, its code
 * (to tell "this site" from a subtree below it) and the one setting that
 * bounds what may be asked (`summaryRetentionDays`). Reports get this
 * rather than the whole running site, so they can be run, and tested,
 * from anything that holds a database.
 *
 * @module
 */
import type { Client } from "../../store/db.ts";
import type { SiteSettings } from "../site_settings.ts";

/** The settings reports read: how far back summaries are kept. */
export type ReportSettings = Pick<SiteSettings, "summaryRetentionDays">;

export interface ReportSources {
  db: Client;
  /** This site's code, e.g. `S01`. */
  code: string;
  /** Read on every run: `PATCH /v1/settings` may change them. */
  settings: ReportSettings;
}

/**
 * Just the sources, picked from what holds more (the running site), so a
 * report is handed nothing else to reach for. The settings are those in
 * force now: pick again for every run.
 */
export function reportSources({ db, code, settings }: ReportSources): ReportSources {
  return { db, code, settings };
}
