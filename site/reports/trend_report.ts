/**
 * What every trend report shares: one rule's figures for each of the last
 * N months (default 12, shortened to summary retention) ending with the
 * current UTC month, oldest first, a row a month. A trend report says only
 * which figures it shows and how it reads them for a window of months; the
 * parameters, their checks, the rows and their echo are made here, so the
 * trends cannot drift apart.
 *
 * @module
 */
import { z } from "zod";
import type { Client } from "../../store/db.ts";
import { formatParam, monthsParam, ruleParam } from "./report_params.ts";
import type { Report } from "./report.ts";
import { type Scope, scopeOf, scopeParameters, siteParam } from "./report_scope.ts";
import { requireRule } from "./report_rules.ts";
import { type MonthsWindow, trendMonths } from "./report_window.ts";

const query = z.object({
  rule: ruleParam,
  months: monthsParam,
  site: siteParam,
  format: formatParam,
}).strict();

/** A trend report: its name, its line of summary and its figures. */
export interface TrendSpec<Figures extends z.ZodRawShape> {
  name: string;
  summary: string;
  /** The columns after `month`. */
  figures: Figures;
  /** The rule's figures in each month of the window, in the window's order. */
  read(
    db: Client,
    rule: string,
    window: MonthsWindow,
    scope: Scope,
  ): Promise<z.output<z.ZodObject<Figures>>[]>;
}

/** The report of `spec`'s figures per month, for one rule. */
export function trendReport<Figures extends z.ZodRawShape>(spec: TrendSpec<Figures>) {
  const row = z.object({ month: z.string(), ...spec.figures });
  const report: Report<typeof query, typeof row> = {
    name: spec.name,
    summary: spec.summary,
    query,
    row,
    freshness: "summaries",
    async run(sources, { rule, months, site: subtree }, now) {
      const scope = await scopeOf(sources, subtree);
      const { ruleName } = await requireRule(sources.db, rule);
      const window = trendMonths(sources.settings, months, now);
      const figures = await spec.read(sources.db, rule, window, scope);
      // The cast: zod cannot infer the output of a shape spread from a type parameter.
      const rows = window.list.map((month, i) => ({ month, ...figures[i] })) as z.output<
        typeof row
      >[];
      return { parameters: trendParameters(rule, ruleName, window, scope), rows };
    },
  };
  return report;
}

/** A trend's parameters as understood: its rule, the months it covers, its scope. */
function trendParameters(
  rule: string,
  ruleName: string | null,
  { months, firstMonth, lastMonth }: MonthsWindow,
  scope: Scope,
) {
  return { rule, ruleName, months, firstMonth, lastMonth, ...scopeParameters(scope) };
}
