/**
 * The reports made of `monthly_totals` figures: per rule in one month
 * (`total-usage`, `remote-usage`) and per month for one rule (their
 * trends). A report says only which totals it shows (`totals_figures.ts`);
 * reading them, the parameters and the rows are made here, so the
 * all-usage and remote-usage reports answer alike.
 *
 * @module
 */
import { z } from "zod";
import { NO_USAGE, totalsOfMonth, totalsOfRule } from "./monthly_totals.ts";
import { formatParam, monthParam } from "./report_params.ts";
import type { Report } from "./report.ts";
import { scopeOf, scopeParameters, siteParam } from "./report_scope.ts";
import { rulesAnd } from "./report_rules.ts";
import { checkMonth } from "./report_window.ts";
import { figuresOf, figuresShape, type TotalsColumns } from "./totals_figures.ts";
import { trendReport } from "./trend_report.ts";

/** A report of totals: its name, its line of summary and the totals it shows. */
export interface TotalsSpec<Columns extends TotalsColumns> {
  name: string;
  summary: string;
  columns: Columns;
}

const monthQuery = z.object({ month: monthParam, site: siteParam, format: formatParam }).strict();

/**
 * The figures of every rule in a month: every rule that applies here has a
 * row (zero when unused); a deleted rule's usage is listed with no name.
 */
export function monthTotalsReport<Columns extends TotalsColumns>(spec: TotalsSpec<Columns>) {
  const { columns } = spec;
  const row = z.object({
    ruleId: z.string(),
    ruleName: z.string().nullable(),
    ...figuresShape(columns),
  });
  const report: Report<typeof monthQuery, typeof row> = {
    name: spec.name,
    summary: spec.summary,
    query: monthQuery,
    row,
    freshness: "summaries",
    async run(sources, { month, site: subtree }, now) {
      const scope = await scopeOf(sources, subtree);
      checkMonth(sources.settings, month, now);
      const byRule = await totalsOfMonth(sources.db, month, scope);
      const rules = await rulesAnd(sources.db, byRule.keys());
      const rows = rules.map(({ ruleId, ruleName }) => ({
        ruleId,
        ruleName,
        ...figuresOf(columns, byRule.get(ruleId) ?? NO_USAGE),
      }));
      // The cast: zod cannot infer the output of a shape spread from a type parameter.
      return {
        parameters: { month, ...scopeParameters(scope) },
        rows: rows as z.output<typeof row>[],
      };
    },
  };
  return report;
}

/** The figures of one rule in each of the last N months; a month without usage is zeros. */
export function totalsTrendReport<Columns extends TotalsColumns>(spec: TotalsSpec<Columns>) {
  const { columns } = spec;
  return trendReport({
    name: spec.name,
    summary: spec.summary,
    figures: figuresShape(columns),
    async read(db, rule, window, scope) {
      const byMonth = await totalsOfRule(db, rule, window.firstMonth, window.lastMonth, scope);
      return window.list.map((month) => figuresOf(columns, byMonth.get(month) ?? NO_USAGE));
    },
  });
}
