/**
 * Brings the figures of licence positions up to date, for every licence
 * known here:
 *
 * 1. this site's own counts (`own_licence_figures.ts`) for each licence that
 *    covers it; a change marks today in the summary outbox, so the parent
 *    gets them in today's summary document;
 * 2. for a concurrent licence, the day curves of this site's own users
 *    (`own_licence_curves.ts`) for the days of its window whose raw sessions
 *    are kept: all of them when the licence is new or its rules changed,
 *    otherwise only the days whose hourly summaries of its rules changed
 *    since (the summariser rewrites an hour whenever a session in it
 *    changes, including running ones); a changed day goes to the outbox;
 * 3. the peak of each day whose curves, here or from below, changed: the
 *    sum of the curves of the sites the licence counts (`licence_scope.ts`).
 *
 * When nothing those figures read has changed since the last refresh
 * (`licence_inputs.ts`), steps 1 and 2 are skipped; step 3 always runs, as
 * curves arrive from below at any time.
 *
 * Each licence's rows are written in one transaction. Times of the
 * bookkeeping (`changed_at`, `merged_at`, `curves_at`) are the wall clock,
 * as the summariser's `updated_at` is, whatever `now` the figures are for.
 *
 * @module
 */
import type { Client, InStatement } from "../../store/db.ts";
import { DAY_MS, dayOf, dayStart } from "../../model/doc_id.ts";
import type { Licence } from "../../model/licence.ts";
import { markDaysStatement } from "../summaries/summary_outbox.ts";
import { listLicences } from "./licences_table.ts";
import { lastInputs, licenceInputs, saveInputsStatement } from "./licence_inputs.ts";
import { coveredSites, coversHere, type Place } from "./licence_scope.ts";
import { daysBetween, licenceWindow } from "./licence_window.ts";
import { ownDayCurves } from "./own_licence_curves.ts";
import { ownLicenceFigures, type SiteFigures } from "./own_licence_figures.ts";
import { curveOfFlat, flatCurve, peakOf, sumCurves } from "./users_curve.ts";

export interface RefreshPlace extends Place {
  /** Raw sessions are kept this many days (`rawRetentionDays`). */
  rawRetentionDays: number;
  /** Stores statements in one transaction (under the site's write lock). */
  write(statements: InStatement[]): Promise<unknown>;
}

export interface LicenceRefresh {
  licences: number;
  /** Whether this site's own figures were counted again (false: nothing they read changed). */
  counted: boolean;
  /** Own day curves written or deleted. */
  curves: number;
  /** Days whose subtree peak was computed again. */
  peaks: number;
  ms: number;
}

/** `progress` is told after each licence how many of how many are done. */
export async function refreshLicences(
  place: RefreshPlace,
  now: number,
  progress: (done: number, total: number) => void = () => {},
): Promise<LicenceRefresh> {
  const started = Date.now();
  const licences = await listLicences(place.db);
  const done: LicenceRefresh = {
    licences: licences.length,
    counted: false,
    curves: 0,
    peaks: 0,
    ms: 0,
  };
  // Read before counting, so that a change while counting makes the next refresh count again.
  // This site's place and raw retention too: they decide which licences count here, and which days.
  const inputs = await licenceInputs(place.db, now, [
    place.ancestors.join(" "),
    place.rawRetentionDays,
  ]);
  done.counted = inputs !== await lastInputs(place.db);
  await place.write(forgetStatements(place, licences));
  for (const [index, licence] of licences.entries()) {
    const statements: InStatement[] = [];
    if (done.counted && coversHere(place, licence)) {
      statements.push(...await figuresStatements(place, licence, now));
      if (licence.model === "concurrent") {
        const curves = await curvesStatements(place, licence, now);
        done.curves += curves.changed;
        statements.push(...curves.statements);
      }
    }
    if (statements.length > 0) await place.write(statements);
    if (licence.model === "concurrent") done.peaks += await mergePeaks(place, licence);
    progress(index + 1, licences.length);
  }
  await place.write([
    done.counted ? saveInputsStatement(inputs) : {
      // Checked current: they are the figures of this instant too.
      sql: "UPDATE licence_site_figures SET computed_at = ? WHERE site_code = ?",
      args: [now, place.code],
    },
  ]);
  done.ms = Date.now() - started;
  return done;
}

/**
 * Own rows of licences that are gone or no longer cover this site, own
 * curves of licences that are not concurrent, and every row of licences
 * that are gone.
 */
function forgetStatements(place: RefreshPlace, licences: Licence[]): InStatement[] {
  const ids = (list: Licence[]) => JSON.stringify(list.map((l) => l.id));
  const covering = licences.filter((l) => coversHere(place, l));
  const counted = ids(covering);
  const curved = ids(covering.filter((l) => l.model === "concurrent"));
  const notIn = "licence_id NOT IN (SELECT value FROM json_each(?))";
  return [
    {
      sql: `DELETE FROM licence_site_figures WHERE site_code = ? AND ${notIn}`,
      args: [place.code, counted],
    },
    {
      sql: `DELETE FROM licence_day_curves WHERE site_code = ? AND ${notIn}`,
      args: [place.code, curved],
    },
    // Of any site: what the sites below sent about a licence that is gone.
    ...["licence_site_figures", "licence_day_curves", "licence_day_peaks"].map((table) => ({
      sql: `DELETE FROM ${table} WHERE ${notIn}`,
      args: [ids(licences)],
    })),
    { sql: `DELETE FROM licence_refresh_state WHERE ${notIn}`, args: [curved] },
  ];
}

async function figuresStatements(place: RefreshPlace, licence: Licence, now: number) {
  const figures = await ownLicenceFigures(place.db, licence, now);
  const day = dayOf(now);
  const stored = await place.db.execute({
    sql: `SELECT day, window_from, installed, installed_used, used_computers, used_users,
      known_users FROM licence_site_figures WHERE licence_id = ? AND site_code = ?`,
    args: [licence.id, place.code],
  });
  const same = stored.rows[0] && stored.rows[0].day === day &&
    sameFigures(stored.rows[0], figures);
  return [
    {
      sql: `INSERT OR REPLACE INTO licence_site_figures (licence_id, site_code, day, computed_at,
          window_from, installed, installed_used, used_computers, used_users, known_users)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      args: [
        licence.id,
        place.code,
        day,
        now,
        figures.windowFrom,
        figures.installed,
        figures.installedUsed,
        figures.usedComputers,
        figures.usedUsers,
        figures.knownUsers,
      ],
    },
    ...(same ? [] : [markDaysStatement([day])]),
  ];
}

function sameFigures(row: Record<string, unknown>, f: SiteFigures): boolean {
  return Number(row.window_from) === f.windowFrom && Number(row.installed) === f.installed &&
    Number(row.installed_used) === f.installedUsed &&
    Number(row.used_computers) === f.usedComputers && Number(row.used_users) === f.usedUsers &&
    Number(row.known_users) === f.knownUsers;
}

/** The own day curves that changed, and the outbox entry for their days. */
async function curvesStatements(place: RefreshPlace, licence: Licence, now: number) {
  const { db } = place;
  const clock = Date.now();
  // What the curves were made for: any change makes them all again.
  const fingerprint = JSON.stringify([licence.ruleIds, licence.coversSite, licence.windowDays]);
  const state = await db.execute({
    sql: "SELECT rule_ids, curves_at FROM licence_refresh_state WHERE licence_id = ?",
    args: [licence.id],
  });
  const window = licenceWindow(licence.windowDays, now);
  const rawFirst = dayOf(now - place.rawRetentionDays * DAY_MS + DAY_MS);
  const first = window.fromDay > rawFirst ? window.fromDay : rawFirst;
  const fresh = state.rows[0]?.rule_ids !== fingerprint;
  const days = fresh
    ? daysBetween(first, dayOf(now))
    : await changedDays(db, licence.ruleIds, first, Number(state.rows[0].curves_at), now);
  const curves = await ownDayCurves(db, licence.ruleIds, days, now);
  const stored = await storedCurves(db, licence.id, place.code, days);
  // New rules or a new scope: older own curves are of another pool, every day's peak of another sum.
  const statements: InStatement[] = fresh
    ? [{
      sql: "DELETE FROM licence_day_curves WHERE licence_id = ? AND site_code = ? AND day < ?",
      args: [licence.id, place.code, first],
    }, { sql: "DELETE FROM licence_day_peaks WHERE licence_id = ?", args: [licence.id] }]
    : [];
  const changed: string[] = [];
  for (const day of days) {
    const points = curves.has(day)
      ? JSON.stringify(flatCurve(curves.get(day)!, dayStart(day)))
      : undefined;
    if (points === stored.get(day)) continue;
    changed.push(day);
    statements.push(
      points === undefined
        ? {
          sql: "DELETE FROM licence_day_curves WHERE licence_id = ? AND day = ? AND site_code = ?",
          args: [licence.id, day, place.code],
        }
        : {
          sql: `INSERT OR REPLACE INTO licence_day_curves (licence_id, day, site_code, points,
            changed_at) VALUES (?, ?, ?, ?, ?)`,
          args: [licence.id, day, place.code, points, clock],
        },
      // Recomputed at the merge, from the curves that remain.
      {
        sql: "DELETE FROM licence_day_peaks WHERE licence_id = ? AND day = ?",
        args: [licence.id, day],
      },
    );
  }
  if (changed.length > 0) statements.push(markDaysStatement(changed));
  statements.push({
    sql:
      "INSERT OR REPLACE INTO licence_refresh_state (licence_id, rule_ids, curves_at) VALUES (?, ?, ?)",
    args: [licence.id, fingerprint, clock],
  });
  return { statements, changed: changed.length };
}

/**
 * Days from `first` with an hourly summary of the pool written after
 * `since`, and yesterday and today (an hour whose last session went leaves
 * no row to tell, and a deleted session is most likely a recent one).
 */
async function changedDays(
  db: Client,
  ruleIds: readonly string[],
  first: string,
  since: number,
  now: number,
): Promise<string[]> {
  const result = await db.execute({
    sql: `SELECT DISTINCT strftime('%Y-%m-%d', hour_ms / 1000, 'unixepoch') AS day
      FROM hourly_usage WHERE rule_id IN (SELECT value FROM json_each(?))
      AND hour_ms >= ? AND updated_at >= ? ORDER BY day`,
    args: [JSON.stringify(ruleIds), dayStart(first), since],
  });
  const days = new Set(result.rows.map((row) => row.day as string));
  days.add(dayOf(now));
  if (dayOf(now - DAY_MS) >= first) days.add(dayOf(now - DAY_MS));
  return [...days].sort();
}

async function storedCurves(db: Client, licenceId: string, site: string, days: string[]) {
  const result = await db.execute({
    sql: `SELECT day, points FROM licence_day_curves WHERE licence_id = ? AND site_code = ?
      AND day IN (SELECT value FROM json_each(?))`,
    args: [licenceId, site, JSON.stringify(days)],
  });
  return new Map(result.rows.map((row) => [row.day as string, row.points as string]));
}

/** Computes again the peak of every day whose curves changed since it was last computed. */
async function mergePeaks(place: RefreshPlace, licence: Licence): Promise<number> {
  const { db } = place;
  const clock = Date.now();
  const sites = JSON.stringify(await coveredSites(place, licence));
  const stale = await db.execute({
    sql: `SELECT DISTINCT c.day FROM licence_day_curves c
      LEFT JOIN licence_day_peaks p ON p.licence_id = c.licence_id AND p.day = c.day
      WHERE c.licence_id = ? AND c.site_code IN (SELECT value FROM json_each(?))
      AND (p.day IS NULL OR c.changed_at >= p.merged_at)`,
    args: [licence.id, sites],
  });
  const statements: InStatement[] = [];
  for (const { day } of stale.rows) {
    const curves = await db.execute({
      sql: `SELECT points FROM licence_day_curves WHERE licence_id = ? AND day = ?
        AND site_code IN (SELECT value FROM json_each(?))`,
      args: [licence.id, day, sites],
    });
    const origin = dayStart(day as string);
    const peak = peakOf(
      sumCurves(curves.rows.map((row) => curveOfFlat(JSON.parse(row.points as string), origin))),
    );
    statements.push({
      sql: `INSERT OR REPLACE INTO licence_day_peaks (licence_id, day, peak_users, peak_at,
        merged_at) VALUES (?, ?, ?, ?, ?)`,
      args: [licence.id, day, peak.users, peak.at, clock],
    });
  }
  if (statements.length > 0) await place.write(statements);
  return statements.length;
}
