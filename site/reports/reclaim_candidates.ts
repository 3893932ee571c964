/**
 * The `reclaim-candidates` report: for a per-device or named-user licence,
 * this site's own computers or users that hold it but have not used it
 * above its threshold in its window, with last use, install date and the
 * saving of reclaiming each (`licences/reclaim_candidates.ts`); CSV for the
 * people who will uninstall.
 *
 * @module
 */
import { z } from "zod";
import { licenceIdSchema } from "../../model/licence.ts";
import { badRequest } from "../http/api_error.ts";
import { reclaimCandidates } from "../licences/reclaim_candidates.ts";
import { licenceOf } from "./licence_param.ts";
import { coversHere, placeOf } from "../licences/licence_scope.ts";
import { iso } from "./figures.ts";
import { formatParam } from "./report_params.ts";
import type { Report } from "./report.ts";

const query = z.object({
  licence: licenceIdSchema.describe("a device or named-user licence, e.g. S01-L3"),
  format: formatParam,
}).strict();

const row = z.object({
  clientId: z.string().nullable(),
  hostName: z.string().nullable(),
  user: z.string().nullable(),
  installedAt: z.string().nullable(),
  lastUse: z.string().nullable(),
  windowMinutes: z.number(),
  saving: z.number().nullable(),
  currency: z.string(),
});

export const reclaimCandidatesReport: Report<typeof query, typeof row> = {
  name: "reclaim-candidates",
  summary: "computers or users that hold a licence without using it above its threshold",
  query,
  row,
  freshness: "summaries",
  async run({ db, code }, { licence: id }, now) {
    const licence = await licenceOf(db, id);
    if (!coversHere(await placeOf(db, code), licence)) {
      throw badRequest(
        `invalid query: licence: ${id} covers site ${licence.coversSite}, not this site's ` +
          "own computers; ask there",
        "invalid_input",
      );
    }
    if (licence.model === "concurrent") {
      throw badRequest(
        `invalid query: licence: ${id} is a concurrent licence, held by no one in particular; ` +
          "reclaim candidates are for device and named-user licences",
        "invalid_input",
      );
    }
    const rows = (await reclaimCandidates(db, licence, now)).map((c) => ({
      clientId: c.clientId,
      hostName: c.hostName,
      user: c.user,
      installedAt: iso(c.installedAt),
      lastUse: iso(c.lastUse),
      windowMinutes: Math.round(c.windowMs / 600) / 100,
      saving: c.saving,
      currency: licence.currency,
    }));
    return { parameters: { licence: id, model: licence.model }, rows };
  },
};
