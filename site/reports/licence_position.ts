/**
 * The `licence-position` report: per licence that counts any site here,
 * owned against consumed under its model, installed and used, the surplus
 * or shortfall and what each costs, and the instant the figures were
 * computed from (`licences/licence_positions.ts`). Sorted by shortfall
 * (largest first) or by the cost of unused surplus.
 *
 * @module
 */
import { z } from "zod";
import { licenceIdSchema } from "../../model/licence.ts";
import { licencePositionSchema } from "../licences/licence_position.ts";
import { licencePositions } from "../licences/licence_positions.ts";
import { placeOf } from "../licences/licence_scope.ts";
import { badRequest } from "../http/api_error.ts";
import { formatParam } from "./report_params.ts";
import type { Report } from "./report.ts";

const query = z.object({
  licence: licenceIdSchema.optional().describe("only this licence, e.g. S01-L3"),
  sort: z.enum(["id", "shortfall", "surplusCost"]).optional()
    .describe("id (default), shortfall (largest first) or surplusCost (largest first)"),
  format: formatParam,
}).strict();

export const licencePositionReport: Report<typeof query, typeof licencePositionSchema> = {
  name: "licence-position",
  summary: "per licence: owned against consumed under its model, surplus or shortfall, and costs",
  query,
  row: licencePositionSchema,
  freshness: "summaries",
  async run({ db, code }, { licence, sort = "id" }, now) {
    let rows = await licencePositions(await placeOf(db, code), now);
    if (licence !== undefined) {
      rows = rows.filter((row) => row.licenceId === licence);
      if (rows.length === 0) {
        throw badRequest(
          `invalid query: licence: no licence ${licence} counts this site; see GET /v1/licences`,
          "invalid_input",
        );
      }
    }
    if (sort === "shortfall") rows.sort((a, b) => b.shortfall - a.shortfall);
    if (sort === "surplusCost") rows.sort((a, b) => (b.surplusCost ?? 0) - (a.surplusCost ?? 0));
    return { parameters: { sort, ...(licence ? { licence } : {}) }, rows };
  },
};
