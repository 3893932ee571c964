/** @jsxImportSource hono/jsx */
/**
 * The console's licence pages (`licences_pages.tsx`) and the forms that
 * record, change and delete a licence through the API's own editor, so a
 * refused value is refused for the same reason, named beside its field, and
 * nothing is stored. An ancestor's licence is shown, never changed (403).
 *
 * @module
 */
import type { Context, Hono, MiddlewareHandler } from "hono";
import type { Child } from "hono/jsx";
import type { Licence } from "../../model/licence.ts";
import { licenceIdSchema } from "../../model/licence.ts";
import { ApiError, badRequest, notFound } from "../http/api_error.ts";
import { LicencesEditor } from "../licences/licences_editor.ts";
import { licencePosition, licencePositions } from "../licences/licence_positions.ts";
import { coversHere, type Place } from "../licences/licence_scope.ts";
import { findLicence } from "../licences/licences_table.ts";
import type { SiteEnv } from "../routes/auth.ts";
import { listRules } from "../routes/rules_routes.ts";
import type { SiteContext } from "../site_context.ts";
import { runReport } from "./console_reports.ts";
import { requireAdmin } from "./console_session.ts";
import {
  checkLicenceForm,
  type LicenceFormValues,
  licenceFormValues,
  licenceValuesOf,
  refusalField,
} from "./licence_form.ts";
import { LicenceForm, LicencePage, LicencesPage } from "./licences_pages.tsx";

export const LICENCE_PATHS = ["/licences", "/licences/*"];

type Page = (
  c: Context<SiteEnv>,
  frame: { title: string; section?: "licences"; children?: Child },
  status?: number,
) => Response | Promise<Response>;

export function licencePages(
  people: Hono<SiteEnv>,
  site: SiteContext,
  page: Page,
  limit: MiddlewareHandler,
): void {
  const editor = new LicencesEditor(site, () => site.settings);
  const url = (c: Context) => new URL(c.req.url);
  const formPage = async (
    c: Context<SiteEnv>,
    form: { values: LicenceFormValues; errors: Record<string, string>; licence?: Licence },
    status = 200,
  ) => {
    const admin = c.get("token").role === "admin" &&
      (!form.licence || form.licence.siteCode === site.code);
    return await page(c, {
      title: form.licence ? `${form.licence.id}: ${form.licence.name}` : "New licence",
      section: "licences",
      children: (
        <LicenceForm
          action={form.licence ? `/licences/${form.licence.id}/edit` : "/licences"}
          rules={await listRules(site)}
          admin={admin}
          {...form}
        />
      ),
    }, status);
  };
  /** Stores what the form gives, or shows it again with what was refused beside its field. */
  const save = async (c: Context<SiteEnv>, licence?: Licence) => {
    const values = licenceFormValues(await c.req.parseBody({ all: true }));
    const check = checkLicenceForm(values, licence !== undefined);
    if (!check.ok) return await formPage(c, { values, errors: check.errors, licence }, 400);
    try {
      const saved = licence
        ? await editor.update(licence.id, check.fields)
        : await editor.create(check.fields);
      const done = `Licence ${saved.id} ${licence ? "saved" : "recorded"}.`;
      return c.redirect(`/licences?done=${encodeURIComponent(done)}`, 303);
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 400) throw error;
      const [field, problem] = refusalField(error.message);
      return await formPage(c, { values, errors: { [field]: problem }, licence }, 400);
    }
  };

  people.get("/licences", async (c) =>
    await page(c, {
      title: "Licences",
      section: "licences",
      children: (
        <LicencesPage
          positions={await licencePositions(placeHere(site), Date.now())}
          url={url(c)}
          admin={c.get("token").role === "admin"}
          notice={c.req.query("done")}
        />
      ),
    }));

  people.get("/licences/new", async (c) => {
    requireAdmin(c.get("token"));
    return await formPage(c, { values: { model: "device", costPeriod: "year" }, errors: {} });
  });

  people.post("/licences", limit, async (c) => {
    requireAdmin(c.get("token"));
    return await save(c);
  });

  people.get("/licences/:id", async (c) => {
    const licence = await knownLicence(site, c.req.param("id"));
    const now = Date.now();
    const place = placeHere(site);
    const position = await licencePosition(place, licence, now);
    const trend = (await runReport(site, "licence-trend", { licence: licence.id }, now)).rows;
    const candidates = position && licence.model !== "concurrent" && coversHere(place, licence)
      ? (await runReport(site, "reclaim-candidates", { licence: licence.id }, now)).rows
      : undefined;
    const admin = c.get("token").role === "admin" && licence.siteCode === site.code;
    return await page(c, {
      title: `${licence.id}: ${licence.name}`,
      section: "licences",
      children: (
        <>
          <LicencePage
            licence={licence}
            position={position}
            trend={trend}
            candidates={candidates}
            url={url(c)}
          />
          <p class="actions">
            <a href={`/licences/${licence.id}/edit`}>{admin ? "Edit" : "Details"}</a>
          </p>
        </>
      ),
    });
  });

  people.get("/licences/:id/edit", async (c) => {
    const licence = await knownLicence(site, c.req.param("id"));
    return await formPage(c, { values: licenceValuesOf(licence), errors: {}, licence });
  });

  people.post("/licences/:id/edit", limit, async (c) => await save(c, await ownLicence(site, c)));

  people.get("/licences/:id/delete", async (c) => {
    const licence = await ownLicence(site, c);
    return await page(c, {
      title: `Delete ${licence.id}?`,
      section: "licences",
      children: (
        <form method="post" action={`/licences/${licence.id}/delete`} class="actions">
          <p>Its position and alerts go; the usage it counted stays.</p>
          <button type="submit" class="danger">Delete {licence.id}</button>
          <a href={`/licences/${licence.id}`}>Cancel</a>
        </form>
      ),
    });
  });

  people.post("/licences/:id/delete", async (c) => {
    const licence = await ownLicence(site, c);
    await editor.remove(licence.id);
    return c.redirect(
      `/licences?done=${encodeURIComponent(`Licence ${licence.id} deleted.`)}`,
      303,
    );
  });
}

/** This site's place as the running site knows it (its ancestors from the parent link). */
const placeHere = (site: SiteContext): Place => ({
  db: site.db,
  code: site.code,
  ancestors: site.ancestors,
});

async function knownLicence(site: SiteContext, id: string): Promise<Licence> {
  if (!licenceIdSchema.safeParse(id).success) {
    throw badRequest(`${id.slice(0, 40)} is not a licence id (like S01-L3)`);
  }
  const licence = await findLicence(site.db, id);
  if (!licence) throw notFound(`no licence ${id}`);
  return licence;
}

/** A licence this site may change, by an admin: an ancestor's is changed at its own site. */
async function ownLicence(site: SiteContext, c: Context<SiteEnv>): Promise<Licence> {
  requireAdmin(c.get("token"));
  const licence = await knownLicence(site, c.req.param("id")!);
  if (licence.siteCode !== site.code) {
    throw new ApiError(
      403,
      "forbidden",
      `licence ${licence.id} belongs to site ${licence.siteCode}; change it there`,
    );
  }
  return licence;
}
