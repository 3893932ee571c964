/**
 * The query parameters reports take, as zod schemas: they validate requests
 * (a 400 names the parameter), describe them in the OpenAPI document and in
 * `meter report --help`. What needs the database (does the rule exist, is
 * the range within summary retention) is checked by `report_window.ts` and
 * `report_rules.ts` once the shape is right.
 *
 * @module
 */
import { z } from "zod";
import { ruleIdSchema } from "../../model/rule.ts";

/** `json` or `csv`; `Accept: text/csv` also chooses CSV. */
export const formatParam = z.enum(["json", "csv"]).optional();

export const ruleParam = ruleIdSchema.describe("a rule id, e.g. S01-7 (see the rules report)");

export const monthParam = z.string().regex(
  /^\d{4}-(0[1-9]|1[0-2])$/,
  "a month is YYYY-MM, e.g. 2026-05",
).describe("a UTC calendar month, YYYY-MM");

const positiveInteger = (unit: string, digits: number) =>
  z.string().regex(
    new RegExp(`^[1-9]\\d{0,${digits - 1}}$`),
    `a whole number of ${unit} from 1`,
  ).transform(Number);

export const monthsParam = positiveInteger("months", 4).optional()
  .describe("how many months, ending with the current one (default 12)");

export const daysParam = positiveInteger("days", 5).optional()
  .describe("how many days, ending today (UTC) (default 90)");

const ISO_INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?$/;

/** An ISO date (midnight UTC) or an ISO date-time with its offset, as ms. */
const NOT_ISO = "give an ISO date (2026-05-01) or date-time with offset (2026-05-01T08:00:00Z)";

export const sinceParam = z.string().regex(ISO_INSTANT, NOT_ISO).transform((value, ctx) => {
  const match = ISO_INSTANT.exec(value)!;
  const ms = Date.parse(match[4] ? value : `${value}T00:00:00Z`);
  const [year, month, day] = match.slice(1, 4).map(Number);
  const real = new Date(Date.UTC(year, month - 1, day)).getUTCDate() === day;
  if (Number.isNaN(ms) || !real) {
    ctx.addIssue({
      code: "custom",
      message: `${value} is not a real date: ${NOT_ISO}`,
    });
    return z.NEVER;
  }
  return ms;
}).describe("an ISO date (2026-05-01, midnight UTC) or date-time with offset");
