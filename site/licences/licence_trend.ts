/**
 * A licence's consumption month by month, against what was owned: from the
 * monthly summaries of every client of the sites it counts here (this
 * site's own and those the summaries of the sites below named), and for a
 * concurrent licence the highest day peak of each month. Installs have no
 * history, so a per-device licence counts, each month, the computers that
 * used it above its threshold that month; the threshold applies to each
 * month's run time. Users count per site, as in positions.
 *
 * @module
 */
import type { Client } from "../../store/db.ts";
import { type Licence } from "../../model/licence.ts";
import { inContract } from "../../model/licence.ts";

export interface TrendMonth {
  month: string;
  owned: number;
  consumed: number;
  shortfall: number;
}

/** `months` (oldest first), for the licence over the sites `sites`; `here` is this site's code. */
export async function licenceTrend(
  db: Client,
  licence: Licence,
  sites: readonly string[],
  here: string,
  months: readonly string[],
  now: number,
): Promise<TrendMonth[]> {
  const consumed = licence.model === "concurrent"
    ? await monthPeaks(db, licence.id, months)
    : await monthUse(db, licence, sites, here, months[0]);
  return months.map((month) => {
    const owned = inContract(licence, Math.min(monthEnd(month), now)) ? licence.quantity : 0;
    const used = consumed.get(month) ?? 0;
    return { month, owned, consumed: used, shortfall: Math.max(0, used - owned) };
  });
}

/** The last millisecond of a month. */
function monthEnd(month: string): number {
  const [year, index] = month.split("-").map(Number);
  return Date.UTC(year, index, 1) - 1;
}

async function monthPeaks(db: Client, licenceId: string, months: readonly string[]) {
  const result = await db.execute({
    sql: `SELECT substr(day, 1, 7) AS month, max(peak_users) AS peak FROM licence_day_peaks
      WHERE licence_id = ? AND day >= ? GROUP BY month`,
    args: [licenceId, `${months[0]}-01`],
  });
  return new Map(result.rows.map((row) => [row.month as string, Number(row.peak)]));
}

/** Computers or users above the threshold, per month. */
async function monthUse(
  db: Client,
  licence: Licence,
  sites: readonly string[],
  here: string,
  first: string,
) {
  const result = await db.execute({
    sql: `WITH sites(code) AS (SELECT value FROM json_each(?2)),
      placed(client_id, site_code) AS (
        SELECT client_id, ?3 FROM clients WHERE ?3 IN sites
        UNION ALL
        SELECT client_id, site_code FROM descendant_clients WHERE site_code IN sites
      )
      SELECT m.month, p.site_code, m.client_id, m.user_name, m.run_ms
      FROM monthly_usage m JOIN placed p ON p.client_id = m.client_id
      WHERE m.rule_id IN (SELECT value FROM json_each(?1)) AND m.month >= ?4`,
    args: [JSON.stringify(licence.ruleIds), JSON.stringify(sites), here, first],
  });
  const byMonth = new Map<string, Map<string, number>>();
  for (const row of result.rows) {
    const holder = licence.model === "device"
      ? row.client_id as string
      : `${row.site_code}/${row.user_name}`;
    const month = row.month as string;
    let totals = byMonth.get(month);
    if (!totals) byMonth.set(month, totals = new Map());
    totals.set(holder, (totals.get(holder) ?? 0) + Number(row.run_ms));
  }
  const threshold = licence.thresholdMinutes * 60_000;
  return new Map(
    [...byMonth].map(([month, totals]) => [
      month,
      [...totals.values()].filter((ms) => ms >= threshold).length,
    ]),
  );
}
