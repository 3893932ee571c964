/**
 * The `licence-trend` report: a licence's consumption against what was
 * owned, per month, over the sites it counts here
 * (`licences/licence_trend.ts`).
 *
 * @module
 */
import { z } from "zod";
import { licenceIdSchema } from "../../model/licence.ts";
import { licenceTrend } from "../licences/licence_trend.ts";
import { coveredSites, placeOf } from "../licences/licence_scope.ts";
import { licenceOf } from "./licence_param.ts";
import { formatParam, monthsParam } from "./report_params.ts";
import type { Report } from "./report.ts";
import { trendMonths } from "./report_window.ts";

const query = z.object({
  licence: licenceIdSchema.describe("a licence id, e.g. S01-L3"),
  months: monthsParam,
  format: formatParam,
}).strict();

const row = z.object({
  month: z.string(),
  owned: z.number(),
  consumed: z.number(),
  shortfall: z.number(),
});

export const licenceTrendReport: Report<typeof query, typeof row> = {
  name: "licence-trend",
  summary: "a licence's consumption against what was owned, per month",
  query,
  row,
  freshness: "summaries",
  async run(sources, { licence: id, months: given }, now) {
    const { db, code } = sources;
    const licence = await licenceOf(db, id);
    const window = trendMonths(sources.settings, given, now);
    const sites = await coveredSites(await placeOf(db, code), licence);
    const rows = await licenceTrend(db, licence, sites, code, window.list, now);
    return { parameters: { licence: id, months: window.months }, rows };
  },
};
