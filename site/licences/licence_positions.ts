/**
 * Positions from the figures the refresher keeps (`licence_refresher.ts`):
 * per licence, the sites it counts here add up their counts, and a
 * concurrent licence takes the highest day peak of its window. Reading them
 * is a few indexed rows per licence, so a position answers at once
 * however large the fleet; `computedAt` says how fresh it is.
 *
 * For this site's own clients the figures are as of the refresh that made
 * them; for a site below, as of when they last reached this site (its
 * child's last sync), since a site sends its counts again only when they
 * change.
 *
 * @module
 */
import type { Licence } from "../../model/licence.ts";
import { inContract } from "../../model/licence.ts";
import { iso } from "../http/time_param.ts";
import type { LicencePosition } from "./licence_position.ts";
import { coveredSites, type Place } from "./licence_scope.ts";
import { licenceWindow } from "./licence_window.ts";
import { listLicences } from "./licences_table.ts";

/** The position of every licence that counts any site here, in id order. */
export async function licencePositions(place: Place, now: number): Promise<LicencePosition[]> {
  const positions: LicencePosition[] = [];
  for (const licence of await listLicences(place.db)) {
    const sites = await coveredSites(place, licence);
    if (sites.length > 0) positions.push(await positionOf(place, licence, sites, now));
  }
  return positions;
}

/** One licence's position; undefined when it counts no site here. */
export async function licencePosition(
  place: Place,
  licence: Licence,
  now: number,
): Promise<LicencePosition | undefined> {
  const sites = await coveredSites(place, licence);
  return sites.length > 0 ? await positionOf(place, licence, sites, now) : undefined;
}

async function positionOf(
  place: Place,
  licence: Licence,
  sites: string[],
  now: number,
): Promise<LicencePosition> {
  const { db } = place;
  const window = licenceWindow(licence.windowDays, now);
  const [sums, peak] = await Promise.all([
    db.execute({
      sql: `SELECT count(*) AS sites, sum(installed) AS installed,
          sum(installed_used) AS installed_used, sum(used_computers) AS used_computers,
          sum(used_users) AS used_users, sum(known_users) AS known_users,
          min(CASE WHEN f.site_code = ?3 THEN f.computed_at
            ELSE max(f.computed_at, coalesce(c.last_sync_at, 0)) END) AS computed_at
        FROM licence_site_figures f
        LEFT JOIN known_sites k ON k.code = f.site_code
        LEFT JOIN child_sites c ON c.code = k.via_child
        WHERE f.licence_id = ?1 AND f.site_code IN (SELECT value FROM json_each(?2))`,
      args: [licence.id, JSON.stringify(sites), place.code],
    }),
    db.execute({
      sql: `SELECT peak_users, peak_at FROM licence_day_peaks
        WHERE licence_id = ? AND day >= ? ORDER BY peak_users DESC, peak_at LIMIT 1`,
      args: [licence.id, window.fromDay],
    }),
  ]);
  const s = sums.rows[0];
  const n = (value: unknown) => Number(value ?? 0);
  const installed = n(s.installed);
  const counts = {
    device: {
      consumed: installed + n(s.used_computers) - n(s.installed_used),
      used: n(s.used_computers),
      reclaimable: installed - n(s.installed_used),
    },
    user: {
      consumed: n(s.used_users),
      used: n(s.used_users),
      reclaimable: n(s.known_users) - n(s.used_users),
    },
    concurrent: {
      consumed: n(peak.rows[0]?.peak_users),
      used: n(s.used_users),
      reclaimable: 0,
    },
  }[licence.model];
  const owned = inContract(licence, now) ? licence.quantity : 0;
  const surplus = Math.max(0, owned - counts.consumed);
  const shortfall = Math.max(0, counts.consumed - owned);
  const cost = (count: number) => licence.unitCost === null ? null : count * licence.unitCost;
  return {
    licenceId: licence.id,
    name: licence.name,
    model: licence.model,
    siteCode: licence.siteCode,
    coversSite: licence.coversSite,
    inContract: inContract(licence, now),
    owned,
    ...counts,
    installed,
    surplus,
    shortfall,
    percent: owned === 0 ? null : Math.round((counts.consumed * 1000) / owned) / 10,
    unitCost: licence.unitCost,
    costPeriod: licence.costPeriod,
    currency: licence.currency,
    shortfallCost: cost(shortfall),
    surplusCost: cost(surplus),
    peakAt: licence.model === "concurrent" ? iso(peak.rows[0]?.peak_at as number ?? null) : null,
    windowFrom: iso(window.from)!,
    computedAt: s.computed_at === null ? null : iso(Number(s.computed_at)),
    sites: n(s.sites),
  };
}
