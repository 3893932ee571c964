/**
 * The figures licence positions are made of, per licence and per site: each
 * site computes its own clients' (`licence_refresher.ts`), and a parent
 * receives those of the sites below in their summary documents
 * (`p/<licence>` and `k/<licence>` records). A position adds up the sites
 * of the licence's subtree.
 *
 * - `licence_site_figures`: counts over the licence's window, as of
 *   `computed_at` (for a site below, its `day` says which day's document
 *   brought them; the newest wins).
 * - `licence_day_curves`: a concurrent licence's curve of concurrent users
 *   for one UTC day and one site (`users_curve.ts`, stored flat, times from
 *   the day's start), computed from raw sessions while they are kept; days
 *   older than that keep the curve they had.
 * - `licence_day_peaks`: the peak of the sum of the subtree's curves for a
 *   day, recomputed when one of them changes; a position takes the highest
 *   of its window.
 * - `licence_refresh_state`: per licence, the rules its curves were made
 *   for and when they were last made, so that a refresh recomputes only
 *   days whose hourly summaries changed since.
 *
 * Counting per site, not per computer, keeps what travels up small and
 * keeps computers and user names at their own site.
 *
 * @module
 */
export const licenceFiguresSchema = [
  `CREATE TABLE IF NOT EXISTS licence_site_figures (
    licence_id TEXT NOT NULL,
    site_code TEXT NOT NULL,
    day TEXT NOT NULL,
    computed_at INTEGER NOT NULL,
    window_from INTEGER NOT NULL,
    installed INTEGER NOT NULL,
    installed_used INTEGER NOT NULL,
    used_computers INTEGER NOT NULL,
    used_users INTEGER NOT NULL,
    known_users INTEGER NOT NULL,
    PRIMARY KEY (licence_id, site_code)
  ) WITHOUT ROWID`,
  `CREATE TABLE IF NOT EXISTS licence_day_curves (
    licence_id TEXT NOT NULL,
    day TEXT NOT NULL,
    site_code TEXT NOT NULL,
    points TEXT NOT NULL,
    changed_at INTEGER NOT NULL,
    PRIMARY KEY (licence_id, day, site_code)
  ) WITHOUT ROWID`,
  `CREATE TABLE IF NOT EXISTS licence_day_peaks (
    licence_id TEXT NOT NULL,
    day TEXT NOT NULL,
    peak_users INTEGER NOT NULL,
    peak_at INTEGER,
    merged_at INTEGER NOT NULL,
    PRIMARY KEY (licence_id, day)
  ) WITHOUT ROWID`,
  `CREATE TABLE IF NOT EXISTS licence_refresh_state (
    licence_id TEXT PRIMARY KEY,
    rule_ids TEXT NOT NULL,
    curves_at INTEGER NOT NULL
  )`,
] as const;
