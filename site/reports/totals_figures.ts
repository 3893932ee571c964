/**
 * The figures a report shows from a rule's month of `monthly_totals`,
 * declared as a column per total: `{ users: "users", runHours: "runMs" }`.
 * A count is shown as it is; a run time (a total in milliseconds, `…Ms`)
 * in hours, like every report's run times (`figures.ts`). Declaring the
 * columns once gives both the row schema and the values, so the two
 * cannot disagree.
 *
 * @module
 */
import { z } from "zod";
import { hours } from "./figures.ts";
import type { MonthlyTotals } from "./monthly_totals.ts";

/** Column name → the total it shows, in the order of the CSV columns. */
export type TotalsColumns = Record<string, keyof MonthlyTotals>;

type FiguresShape<Columns> = { [Column in keyof Columns]: z.ZodNumber };

/** The row schema of the columns: every figure is a number. */
export function figuresShape<Columns extends TotalsColumns>(columns: Columns) {
  const shape = Object.fromEntries(Object.keys(columns).map((column) => [column, z.number()]));
  return shape as FiguresShape<Columns>;
}

/** The columns' figures of one rule's month of totals. */
export function figuresOf<Columns extends TotalsColumns>(
  columns: Columns,
  totals: MonthlyTotals,
) {
  const figures = Object.entries(columns).map(([column, total]) => {
    const value = totals[total];
    return [column, total.endsWith("Ms") ? hours(value) : value];
  });
  // Typed as the schema's output, which is what a trend report's reader returns.
  return Object.fromEntries(figures) as z.output<z.ZodObject<FiguresShape<Columns>>>;
}
