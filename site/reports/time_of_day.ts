/**
 * The `time-of-day` report: when in the week a rule's program is used, as
 * a 7 × 24 grid (weekday 1 = Monday ... 7 = Sunday × hour 0..23, both on
 * each client's own local clock) of average distinct users.
 *
 * A cell is the sum of `local_hour_users.users` over the local dates of
 * that weekday within the last `days` days (the UTC dates ending today),
 * divided by how many such dates the window holds: a date with no usage
 * counts as zero. One range of the primary key (rule, local date, hour).
 * At a site with sites below it, their users of each cell are added
 * (`site_local_hour_users`): people at different sites are different people.
 *
 * @module
 */
import { z } from "zod";
import { weekdayOf } from "../summaries/local_clock.ts";
import { twoDecimals } from "./figures.ts";
import { daysParam, formatParam, ruleParam } from "./report_params.ts";
import type { Report } from "./report.ts";
import { scopeOf, scopeParameters, siteParam } from "./report_scope.ts";
import { requireRule } from "./report_rules.ts";
import { lastDays } from "./report_window.ts";

const query = z.object({
  rule: ruleParam,
  days: daysParam,
  site: siteParam,
  format: formatParam,
}).strict();

const row = z.object({
  weekday: z.number().int().min(1).max(7),
  hour: z.number().int().min(0).max(23),
  /** null for a weekday the window holds no date of (fewer than 7 days). */
  averageUsers: z.number().nullable(),
});

const extra = z.object({
  /** `grid[weekday - 1][hour]`: the same figures as the rows. */
  grid: z.array(z.array(z.number().nullable())),
  /** How many dates of each weekday (Monday first) the window holds. */
  datesPerWeekday: z.array(z.number()),
});

export const timeOfDayReport: Report<typeof query, typeof row> = {
  name: "time-of-day",
  summary: "a 7 × 24 grid (weekday × local hour) of average distinct users over the last N days",
  query,
  row,
  extra,
  freshness: "summaries",
  async run(site, { rule, days, site: subtree }, now) {
    const scope = await scopeOf(site, subtree);
    const { ruleName } = await requireRule(site, rule);
    const window = lastDays(site, days, now);
    const result = await site.db.execute({
      // ?4: the subtree's sites, or null for this site and everything below.
      sql: `SELECT weekday, local_hour, sum(users) AS users FROM (
          SELECT weekday, local_hour, users FROM local_hour_users
          WHERE rule_id = ?1 AND local_date BETWEEN ?2 AND ?3 AND ?4 IS NULL
          UNION ALL SELECT weekday, local_hour, users FROM site_local_hour_users
          WHERE rule_id = ?1 AND local_date BETWEEN ?2 AND ?3
            AND (?4 IS NULL OR site_code IN (SELECT value FROM json_each(?4)))
        ) GROUP BY weekday, local_hour`,
      args: [
        rule,
        window.firstDate,
        window.lastDate,
        scope.code === undefined ? null : JSON.stringify(scope.codes),
      ],
    });
    const datesPerWeekday = Array<number>(7).fill(0);
    for (const date of window.dates) datesPerWeekday[weekdayOf(date) - 1]++;
    const sums = Array.from({ length: 7 }, () => Array<number>(24).fill(0));
    for (const r of result.rows) {
      sums[(r.weekday as number) - 1][r.local_hour as number] = r.users as number;
    }
    const grid = sums.map((hours, w) =>
      hours.map((sum) => datesPerWeekday[w] ? twoDecimals(sum / datesPerWeekday[w]) : null)
    );
    const rows = grid.flatMap((hours, w) =>
      hours.map((averageUsers, hour) => ({ weekday: w + 1, hour, averageUsers }))
    );
    const { firstDate, lastDate } = window;
    return {
      parameters: {
        rule,
        ruleName,
        days: window.days,
        firstDate,
        lastDate,
        ...scopeParameters(scope),
      },
      rows,
      extra: { grid, datesPerWeekday },
    };
  },
};
