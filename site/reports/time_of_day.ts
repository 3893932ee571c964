/**
 * The `time-of-day` report: when in the week a rule's program is used, as
 * a 7 × 24 grid (weekday 1 = Monday ... 7 = Sunday × hour 0..23, both on
 * each client's own local clock) of average distinct users.
 *
 * The window is the last `days` days of each computer's own calendar: the
 * local dates ending with the date its clock shows at the report's instant
 * (`local_calendars.ts`). Computers showing the same date share a calendar;
 * at one instant there are up to three. Per calendar, a cell is the sum of
 * the users of that weekday and local hour over its window's dates, divided
 * by how many dates of that weekday the window holds (a date with no usage
 * counts as zero); the cell is the sum of those averages over the calendars,
 * as the users of different computers add up. One calendar's divisor may
 * differ from another's by one when `days` is not a multiple of 7, which is
 * why the average is taken per calendar and not over the sum.
 *
 * Users are distinct per local hour and time zone (`local_hour_users`); at
 * a site with sites below it, their users of each cell are added
 * (`site_local_hour_users`): people at different sites are different people.
 *
 * @module
 */
import { z } from "zod";
import { twoDecimals } from "./figures.ts";
import { calendarsAt, type LocalCalendar, possibleDates } from "./local_calendars.ts";
import { usersOnCalendar, zonesCovered } from "./local_hour_cells.ts";
import { daysParam, formatParam, ruleParam } from "./report_params.ts";
import type { Report } from "./report.ts";
import { scopeOf, scopeParameters, siteParam } from "./report_scope.ts";
import { requireRule } from "./report_rules.ts";
import { dayCount } from "./report_window.ts";

const query = z.object({
  rule: ruleParam,
  days: daysParam.describe(
    "how many days, ending with each computer's local date now (default 90)",
  ),
  site: siteParam,
  format: formatParam,
}).strict();

const row = z.object({
  weekday: z.number().int().min(1).max(7),
  hour: z.number().int().min(0).max(23),
  /** null for a weekday no calendar's window holds a date of (fewer than 7 days). */
  averageUsers: z.number().nullable(),
});

const calendar = z.object({
  firstDate: z.string(),
  lastDate: z.string(),
  timeZones: z.array(z.string()),
  datesPerWeekday: z.array(z.number()),
});

const extra = z.object({
  /** `grid[weekday - 1][hour]`: the same figures as the rows. */
  grid: z.array(z.array(z.number().nullable())),
  /**
   * How many dates of each weekday (Monday first) the window holds; null
   * where the calendars disagree (see `calendars`).
   */
  datesPerWeekday: z.array(z.number().nullable()),
  /** The computers' calendars at the report's instant, earliest first. */
  calendars: z.array(calendar),
});

export const timeOfDayReport: Report<typeof query, typeof row> = {
  name: "time-of-day",
  summary: "a 7 × 24 grid (weekday × local hour) of average distinct users over the last N days",
  query,
  row,
  extra,
  freshness: "summaries",
  async run(sources, { rule, days: given, site: subtree }, now) {
    const { db } = sources;
    const scope = await scopeOf(sources, subtree);
    const { ruleName } = await requireRule(db, rule);
    const days = dayCount(sources.settings, given, now);
    const zones = await zonesCovered(db, rule, scope, possibleDates(days, now));
    // With no computer and no usage at all, UTC's calendar says which weekdays the window holds.
    const calendars = calendarsAt(zones.length > 0 ? zones : ["UTC"], days, now);
    const users = await Promise.all(
      calendars.map((calendar) => usersOnCalendar(db, rule, scope, calendar)),
    );
    const grid = averages(calendars, users);
    const rows = grid.flatMap((hours, w) =>
      hours.map((averageUsers, hour) => ({ weekday: w + 1, hour, averageUsers }))
    );
    return {
      parameters: {
        rule,
        ruleName,
        days,
        firstDate: calendars[0].firstDate,
        lastDate: calendars.at(-1)!.lastDate,
        ...scopeParameters(scope),
      },
      rows,
      extra: { grid, datesPerWeekday: agreedDates(calendars), calendars },
    };
  },
};

/**
 * Each cell: over the calendars whose window holds its weekday, the sum of
 * their averages (a calendar's users of that weekday and hour over its
 * window, divided by its dates of that weekday); null where none holds it.
 */
function averages(calendars: LocalCalendar[], users: number[][][]): (number | null)[][] {
  return Array.from({ length: 7 }, (_, w) => {
    const holding = calendars.flatMap((c, i) => c.datesPerWeekday[w] > 0 ? [i] : []);
    return Array.from({ length: 24 }, (_, hour) => {
      if (holding.length === 0) return null;
      const sum = holding.reduce(
        (total, i) => total + users[i][w][hour] / calendars[i].datesPerWeekday[w],
        0,
      );
      return twoDecimals(sum);
    });
  });
}

/** Per weekday, the calendars' count of its dates where they all agree, else null. */
function agreedDates(calendars: LocalCalendar[]): (number | null)[] {
  return Array.from({ length: 7 }, (_, w) => {
    const counts = new Set(calendars.map((c) => c.datesPerWeekday[w]));
    return counts.size === 1 ? [...counts][0] : null;
  });
}
