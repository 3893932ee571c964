/**
 * `/v1/licences`: list, read, create, change and delete the licences the
 * organisation owns, refresh the figures of their positions now, and list
 * the alerts they raised. Reading needs a viewer or admin token, writing an
 * admin token. The list holds this site's licences and its ancestors' (which
 * may cover this site); an ancestor's licence is changed at its own site
 * (403 here).
 *
 * @module
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { z } from "zod";
import {
  type Licence,
  LICENCE_COLUMNS,
  licenceFieldsSchema,
  licenceIdSchema,
  licenceSchema,
} from "../../model/licence.ts";
import {
  authErrors,
  bearerSecurity,
  bodyErrors,
  errorReply,
  formatParameter,
  jsonBodyOf,
  reply,
} from "../http/openapi_parts.ts";
import { badRequest, forbidden, notFound } from "../http/api_error.ts";
import { listResponse } from "../http/list_response.ts";
import { jsonBody, queryInput } from "../http/request_input.ts";
import { listLicenceEvents } from "../licences/licence_alerts.ts";
import { LicencesEditor } from "../licences/licences_editor.ts";
import { findLicence, listLicences } from "../licences/licences_table.ts";
import type { SiteContext } from "../site_context.ts";
import { requireRole, type SiteEnv } from "./auth.ts";
import { tooLarge } from "./too_large.ts";

export const licenceUpdateSchema = licenceFieldsSchema.partial();

const eventsQuerySchema = z.object({
  limit: z.string().regex(/^[1-9]\d{0,3}$/, "limit is a whole number from 1 to 9999")
    .transform(Number).optional(),
  format: z.enum(["json", "csv"]).optional(),
}).strict();

const licenceEventSchema = z.object({
  id: z.number(),
  licenceId: z.string(),
  licenceName: z.string(),
  kind: z.enum(["shortfall", "near", "recovered"]),
  at: z.string(),
  owned: z.number(),
  consumed: z.number(),
  percent: z.number().nullable(),
  message: z.string(),
});
const JSON_LIMIT = 64 * 1024;

export function licencesRoutes(site: SiteContext): Hono<SiteEnv> {
  const app = new Hono<SiteEnv>();
  const editor = new LicencesEditor(site, () => site.settings);
  const read = requireRole(site.db, "viewer", "admin");
  const write = requireRole(site.db, "admin");
  const limit = bodyLimit({ maxSize: JSON_LIMIT, onError: tooLarge(JSON_LIMIT) });

  app.get("/", read, async (c) => {
    const licences = await listLicences(site.db);
    return listResponse(c, LICENCE_COLUMNS, licences.map(csvRow), { licences });
  });
  app.post("/", write, limit, async (c) => {
    const fields = await jsonBody(c, licenceFieldsSchema);
    return c.json(await editor.create(fields), 201);
  });
  // Before `/:id`.
  app.get("/events", read, async (c) => {
    const { limit = 100 } = queryInput(c, eventsQuerySchema);
    const events = (await listLicenceEvents(site.db, limit)).map((e) => ({
      ...e,
      at: new Date(e.at).toISOString(),
    }));
    return listResponse(c, Object.keys(licenceEventSchema.shape), events, { events });
  });
  // The figures are otherwise brought up to date every licenceRefreshSeconds.
  app.post("/refresh", write, async (c) => c.json(await site.licences.refresh()));
  app.get("/:id", read, async (c) => c.json(await getLicence(site, c.req.param("id"))));
  app.patch("/:id", write, limit, async (c) => {
    const existing = await ownLicence(site, c.req.param("id"));
    const fields = await jsonBody(c, licenceUpdateSchema);
    if (Object.keys(fields).length === 0) throw badRequest("the body changes nothing");
    return c.json(await editor.update(existing.id, fields));
  });
  app.delete("/:id", write, async (c) => {
    const existing = await ownLicence(site, c.req.param("id"));
    await editor.remove(existing.id);
    return c.body(null, 204);
  });
  return app;
}

/** A licence as a CSV row: its rules in one cell, separated by spaces. */
function csvRow(licence: Licence): Record<string, unknown> {
  return { ...licence, ruleIds: licence.ruleIds.join(" ") };
}

/** A licence this site may change: an ancestor's is changed at its origin (403). */
async function ownLicence(site: SiteContext, id: string): Promise<Licence> {
  const licence = await getLicence(site, id);
  if (licence.siteCode !== site.code) {
    throw forbidden(`licence ${id} belongs to site ${licence.siteCode}; change it there`);
  }
  return licence;
}

async function getLicence(site: SiteContext, id: string): Promise<Licence> {
  if (!licenceIdSchema.safeParse(id).success) {
    throw badRequest(`${id.slice(0, 40)} is not a licence id (like S01-L3)`);
  }
  const licence = await findLicence(site.db, id);
  if (!licence) throw notFound(`no licence ${id}`);
  return licence;
}

/** The OpenAPI paths of `/v1/licences`. */
export function licencesOpenApiPaths(): Record<string, unknown> {
  const idParameter = { name: "id", in: "path", required: true, schema: { type: "string" } };
  const invalid = {
    "400": errorReply("Invalid input; the message names the field, e.g. ruleIds or quantity"),
  };
  const notFound = { "404": errorReply("No such licence") };
  const one = (what: string) => reply(what, licenceSchema);
  return {
    "/v1/licences": {
      get: {
        summary: "List the licences of this site and of its ancestors (viewer or admin); " +
          "CSV lists a licence's rules in one cell, separated by spaces",
        security: bearerSecurity,
        parameters: [formatParameter],
        responses: {
          "200": reply("Licences", z.object({ licences: z.array(licenceSchema) }), true),
          ...authErrors,
        },
      },
      post: {
        summary: "Record a licence the organisation owns (admin): a name, the rules of its " +
          "pool, a model (device, user, concurrent) and the quantity owned",
        security: bearerSecurity,
        requestBody: jsonBodyOf(licenceFieldsSchema),
        responses: { "201": one("Created"), ...invalid, ...authErrors, ...bodyErrors },
      },
    },
    "/v1/licences/events": {
      get: {
        summary: "Licence alerts, newest first (viewer or admin): a position that turned into a " +
          "shortfall, reached alertAtPercent, or recovered",
        security: bearerSecurity,
        parameters: [
          { name: "limit", in: "query", required: false, schema: { type: "integer" } },
          formatParameter,
        ],
        responses: {
          "200": reply("Events", z.object({ events: z.array(licenceEventSchema) }), true),
          ...authErrors,
        },
      },
    },
    "/v1/licences/refresh": {
      post: {
        summary: "Bring the figures of licence positions up to date now (admin), instead of " +
          "waiting for licenceRefreshSeconds; answers what was done",
        security: bearerSecurity,
        responses: {
          "200": reply(
            "Refreshed",
            z.object({
              licences: z.number(),
              counted: z.boolean().describe(
                "whether this site's own figures were counted again (false: nothing changed)",
              ),
              curves: z.number().describe("own day curves of concurrent users written"),
              peaks: z.number().describe("days whose peak over the subtree was computed again"),
              ms: z.number(),
              events: z.number().describe("alerts recorded"),
            }),
          ),
          ...authErrors,
        },
      },
    },
    "/v1/licences/{id}": {
      parameters: [idParameter],
      get: {
        summary: "One licence (viewer or admin)",
        security: bearerSecurity,
        responses: { "200": one("Licence"), ...authErrors, ...notFound },
      },
      patch: {
        summary: "Change a licence of this site (admin); only the fields given change; " +
          "an ancestor's licence is changed at its own site (403)",
        security: bearerSecurity,
        requestBody: jsonBodyOf(licenceUpdateSchema),
        responses: {
          "200": one("Changed"),
          ...invalid,
          ...authErrors,
          ...bodyErrors,
          ...notFound,
        },
      },
      delete: {
        summary: "Delete a licence of this site (admin)",
        security: bearerSecurity,
        responses: { "204": reply("Deleted"), ...authErrors, ...notFound },
      },
    },
  };
}
