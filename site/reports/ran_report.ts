/**
 * What `computers-ran` and `users-ran` share: who ran a rule's program in a
 * month, a row per computer or per user, grouped from the `monthly_usage`
 * rows of that rule and month in the report's scope (the table's primary
 * key starts with rule and month, so those rows are one range). A report
 * says how it groups them and shows a row; the parameters, their checks
 * and the reading are made here.
 *
 * @module
 */
import { z } from "zod";
import { jsonRows } from "./json_rows.ts";
import { formatParam, monthParam, ruleParam } from "./report_params.ts";
import type { Report } from "./report.ts";
import { clientsIn, scopeOf, scopeParameters, siteParam } from "./report_scope.ts";
import { requireRule } from "./report_rules.ts";
import { checkMonth } from "./report_window.ts";

const query = z.object({
  rule: ruleParam,
  month: monthParam,
  site: siteParam,
  format: formatParam,
}).strict();

/** A report of who ran a program: its name, summary, rows and how they are read. */
export interface RanSpec<Row extends z.ZodObject> {
  name: string;
  summary: string;
  row: Row;
  /** The columns `select` yields, and the order of the rows by them. */
  columns: readonly string[];
  orderBy: string;
  /** The grouping SELECT over `monthly_usage` rows that meet `where`. */
  select(where: string): string;
  /** A row of the report from a row of `select`. */
  show(found: Record<string, unknown>): z.output<Row>;
}

/** The report of `spec`'s rows for one rule and month. */
export function ranReport<Row extends z.ZodObject>(spec: RanSpec<Row>) {
  const report: Report<typeof query, Row> = {
    name: spec.name,
    summary: spec.summary,
    query,
    row: spec.row,
    freshness: "summaries",
    async run(sources, { rule, month, site: subtree }, now) {
      const scope = await scopeOf(sources, subtree);
      const clients = clientsIn(scope);
      const { ruleName } = await requireRule(sources.db, rule);
      checkMonth(sources.settings, month, now);
      const found = await jsonRows(
        sources.db,
        spec.columns,
        spec.select(`rule_id = ? AND month = ? AND ${clients.sql}`),
        [rule, month, ...clients.args],
        spec.orderBy,
      );
      const rows = found.map(spec.show);
      return { parameters: { rule, ruleName, month, ...scopeParameters(scope) }, rows };
    },
  };
  return report;
}
