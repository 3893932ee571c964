/**
 * The exact peaks of concurrency over a stretch of hours: the highest
 * `hourly_usage.peak_users` (and `peak_sessions`) of a rule's hours in
 * `[from, to)` and the first instant it was reached (the earliest on ties).
 * Each hour's peak is exact, so the highest of them is the exact peak of
 * the stretch.
 *
 * Every (rule, stretch) is answered in one statement: per stretch, the hour
 * holding the peak is found within a range of the primary key (rule, hour),
 * then read by its key.
 *
 * Those are this site's own clients. Peaks of different sites cannot be
 * merged into one exact figure (their sessions are not here), so for the
 * sites below, `sitePeakSums` adds each site's own peak of the stretch to
 * this site's: the concurrency the whole subtree may have needed at most,
 * exact when the sites peaked at once.
 *
 * @module
 */
import { z } from "zod";
import type { Client } from "../../store/db.ts";
import { iso } from "./figures.ts";
import type { Scope } from "./report_scope.ts";

export interface Stretch {
  /** What the caller knows this stretch by (a rule id or a month). */
  key: string;
  ruleId: string;
  from: number;
  to: number;
}

export interface Peaks {
  peakUsers: number;
  peakUsersAt: number | null;
  peakSessions: number;
  peakSessionsAt: number | null;
}

/**
 * The statement for this site's own hours (`hourly_usage`), or for one site
 * below (`site_hourly_usage` of `?2`). `?1` is the stretches as JSON.
 */
function peaksSql(table: "hourly_usage" | "site_hourly_usage"): string {
  const ofSite = (alias: string) => table === "hourly_usage" ? "" : `AND ${alias}.site_code = ?2`;
  const peakHour = (figure: string) =>
    `(SELECT h.hour_ms FROM ${table} h
      WHERE h.rule_id = s.rule_id AND h.hour_ms >= s.from_ms AND h.hour_ms < s.to_ms ${ofSite("h")}
      ORDER BY h.${figure} DESC, h.${figure}_at, h.hour_ms LIMIT 1)`;
  return `WITH s AS (
      SELECT value ->> '$.key' AS key, value ->> '$.ruleId' AS rule_id,
        value ->> '$.from' AS from_ms, value ->> '$.to' AS to_ms
      FROM json_each(?1)
    ), best AS (
      SELECT s.key, s.rule_id, ${peakHour("peak_users")} AS users_hour,
        ${peakHour("peak_sessions")} AS sessions_hour
      FROM s
    )
    SELECT best.key, u.peak_users, u.peak_users_at, p.peak_sessions, p.peak_sessions_at
    FROM best
    LEFT JOIN ${table} u ON u.rule_id = best.rule_id AND u.hour_ms = best.users_hour ${ofSite("u")}
    LEFT JOIN ${table} p
      ON p.rule_id = best.rule_id AND p.hour_ms = best.sessions_hour ${ofSite("p")}`;
}

/**
 * The peaks of each stretch, by its key; zero (and no instant) where nothing
 * ran. This site's own clients, or, for a subtree (`site=`), its top site's.
 */
export async function peaksOf(
  db: Client,
  stretches: Stretch[],
  scope?: Scope,
): Promise<Map<string, Peaks>> {
  const json = JSON.stringify(stretches);
  const result = await db.execute(
    scope?.code === undefined
      ? { sql: peaksSql("hourly_usage"), args: [json] }
      : { sql: peaksSql("site_hourly_usage"), args: [json, scope.code] },
  );
  return new Map(result.rows.map((r) => [r.key as string, {
    peakUsers: (r.peak_users as number | null) ?? 0,
    peakUsersAt: r.peak_users_at as number | null,
    peakSessions: (r.peak_sessions as number | null) ?? 0,
    peakSessionsAt: r.peak_sessions_at as number | null,
  }]));
}

export interface PeakSums {
  /** This site and each site below with usage in the stretch. */
  sites: number;
  users: number;
  sessions: number;
}

// ?2: the sites to add (JSON), or null for every site below this one.
const SUMS_SQL = `WITH s AS (
    SELECT value ->> '$.key' AS key, value ->> '$.ruleId' AS rule_id,
      value ->> '$.from' AS from_ms, value ->> '$.to' AS to_ms
    FROM json_each(?1)
  ), per_site AS (
    SELECT s.key, h.site_code, max(h.peak_users) AS users, max(h.peak_sessions) AS sessions
    FROM s JOIN site_hourly_usage h
      ON h.rule_id = s.rule_id AND h.hour_ms >= s.from_ms AND h.hour_ms < s.to_ms
    WHERE ?2 IS NULL OR h.site_code IN (SELECT value FROM json_each(?2))
    GROUP BY s.key, h.site_code
  )
  SELECT key, count(*) AS sites, sum(users) AS users, sum(sessions) AS sessions
  FROM per_site GROUP BY key`;

/**
 * Per stretch: the own peaks given plus the peak of each site below (of the
 * subtree's other sites, for a `site=` scope), and how many sites.
 */
export async function sitePeakSums(
  db: Client,
  stretches: Stretch[],
  own: Map<string, Peaks>,
  scope?: Scope,
): Promise<Map<string, PeakSums>> {
  const others = scope?.code === undefined ? null : JSON.stringify(scope.codes.slice(1));
  const result = await db.execute({
    sql: SUMS_SQL,
    args: [JSON.stringify(stretches), others],
  });
  const below = new Map(result.rows.map((r) => [r.key as string, r]));
  return new Map(stretches.map(({ key }) => {
    const mine = own.get(key);
    const sums = below.get(key);
    return [key, {
      sites: 1 + Number(sums?.sites ?? 0),
      users: (mine?.peakUsers ?? 0) + Number(sums?.users ?? 0),
      sessions: (mine?.peakSessions ?? 0) + Number(sums?.sessions ?? 0),
    }];
  }));
}

/** The peak columns of a report row. */
export const peakFields = {
  peakUsers: z.number().describe("this site's own clients: the exact peak"),
  peakUsersAt: z.string().nullable(),
  peakSessions: z.number(),
  peakSessionsAt: z.string().nullable(),
  sites: z.number().describe("this site and the sites below it with usage"),
  sitesPeakUsersSum: z.number().describe("the sum of each of those sites' exact peak"),
  sitesPeakSessionsSum: z.number(),
};

/** Peaks as a report shows them: instants in ISO, zero where nothing ran. */
export function shownPeaks(peak: Peaks | undefined, sums: PeakSums | undefined) {
  return {
    peakUsers: peak?.peakUsers ?? 0,
    peakUsersAt: iso(peak?.peakUsersAt),
    peakSessions: peak?.peakSessions ?? 0,
    peakSessionsAt: iso(peak?.peakSessionsAt),
    sites: sums?.sites ?? 1,
    sitesPeakUsersSum: sums?.users ?? peak?.peakUsers ?? 0,
    sitesPeakSessionsSum: sums?.sessions ?? peak?.peakSessions ?? 0,
  };
}
