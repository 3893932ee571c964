/** @jsxImportSource hono/jsx */
/**
 * The web console at `/`, for people: server-rendered pages (Hono's JSX, no
 * build step and no script needed), each at a stable URL, signed in with a
 * viewer or admin token kept in an HTTP-only cookie. Every table downloads
 * as CSV from the same code as the API's CSV. Errors are pages that say what
 * was wrong, never a stack trace; refusals go to the audit log as the API's do.
 *
 * @module
 */
import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { z } from "zod";
import { type Rule, RULE_COLUMNS, ruleIdSchema } from "../../model/rule.ts";
import { log } from "../../lib/log.ts";
import { ApiError, badRequest, notFound } from "../http/api_error.ts";
import type { SiteEnv } from "../routes/auth.ts";
import { toCsv } from "../../lib/csv.ts";
import { CLIENT_COLUMNS, listClients } from "../routes/clients_routes.ts";
import { listRules } from "../routes/rules_routes.ts";
import { findReport } from "../reports/report_registry.ts";
import { listSessions } from "../routes/usage_routes.ts";
import { isRefusal, refuse } from "../access/refusals.ts";
import { RulesEditor } from "../rules/rules_editor.ts";
import { SESSION_COLUMNS } from "../../model/session_output.ts";
import type { SiteContext } from "../site_context.ts";
import { checkToken } from "../access/tokens.ts";
import { CLIENT_SESSIONS_SHOWN, ClientPage, ClientsPage } from "./clients_pages.tsx";
import { csvDownload, reportCsv } from "./console_reports.ts";
import {
  endSession,
  requireAdmin,
  safeNext,
  sameOrigin,
  signedIn,
  startSession,
} from "./console_session.ts";
import { type PageFrame, renderPage } from "./layout.tsx";
import { loadOverview, OverviewPage } from "./overview_page.tsx";
import { loadProgram, ProgramPage } from "./program_page.tsx";
import { checkRuleForm, type FormValues, formValues } from "./rule_form.ts";
import { RuleForm, RulesPage, valuesOf } from "./rules_pages.tsx";
import { LICENCE_PATHS, licencePages } from "./licences_routes.tsx";
import { consoleSecurityHeaders } from "./security_headers.ts";
import { SignInPage } from "./sign_in_page.tsx";
import { CONSOLE_CSS } from "./style.ts";

const FORM_LIMIT = 64 * 1024;
const PEOPLE_PATHS = [
  "/",
  "/programs/*",
  "/reports/*",
  "/rules",
  "/rules.csv",
  "/rules/*",
  "/clients",
  "/clients.csv",
  "/clients/*",
  ...LICENCE_PATHS,
];
/** The console's paths anyone may fetch. */
const PUBLIC_PATHS = ["/console.css", "/sign-in", "/sign-out"];
const signInSchema = z.object({
  token: z.string().trim().min(1).max(500),
  next: z.string().max(2000),
});

export function consoleRoutes(site: SiteContext): Hono<SiteEnv> {
  const app = new Hono<SiteEnv>();
  const editor = new RulesEditor(site);
  const page = (c: Context<SiteEnv>, frame: Omit<PageFrame, "siteCode" | "role">, status = 200) =>
    c.html(
      renderPage({ ...frame, siteCode: site.code, role: c.get("token")?.role }),
      status as 200,
    );
  /** The new-rule form, or an existing rule's, with the values and errors to show. */
  const ruleFormPage = (
    c: Context<SiteEnv>,
    form: { values: FormValues; errors: Record<string, string>; rule?: Rule; admin: boolean },
    status = 200,
  ) =>
    page(c, {
      title: form.rule ? `${form.rule.id}: ${form.rule.name}` : "New rule",
      section: "rules",
      children: <RuleForm action={form.rule ? `/rules/${form.rule.id}` : "/rules"} {...form} />,
    }, status);
  const url = (c: Context) => new URL(c.req.url);
  const limit = bodyLimit({
    maxSize: FORM_LIMIT,
    onError: () => {
      throw new ApiError(
        413,
        "body_too_large",
        `the form is larger than this site accepts (${FORM_LIMIT} bytes)`,
      );
    },
  });

  /** A page saying what was wrong, with the error's status and headers (`Retry-After`). */
  const errorPage = (c: Context<SiteEnv>, error: ApiError) => {
    for (const [name, value] of Object.entries(error.headers)) c.header(name, value);
    return page(c, {
      title: errorTitle(error.status),
      children: <p class="error">{error.message}</p>,
    }, error.status);
  };

  app.onError(async (error, c) => {
    if (error instanceof ApiError) {
      return errorPage(c, isRefusal(error) ? await refuse(site, c, error) : error);
    }
    log.error("console request failed", { method: c.req.method, path: c.req.path, error });
    return page(c, {
      title: "Something went wrong",
      children: <p class="error">The site could not show this page; its log has the details.</p>,
    }, 500);
  });

  for (const path of [...PEOPLE_PATHS, ...PUBLIC_PATHS]) app.use(path, consoleSecurityHeaders);

  app.get(
    "/console.css",
    (c) =>
      c.body(CONSOLE_CSS, 200, {
        "content-type": "text/css; charset=utf-8",
        "cache-control": "max-age=300",
      }),
  );

  app.get("/sign-in", (c) => {
    const why = c.req.query("why");
    const problem = why ? `You were signed out: ${why}. Sign in again.` : undefined;
    return page(c, {
      title: "Sign in",
      children: <SignInPage next={safeNext(c.req.query("next"))} problem={problem} />,
    });
  });

  app.post("/sign-in", limit, sameOrigin, async (c) => {
    const form = signInSchema.safeParse(await c.req.parseBody());
    const next = safeNext(form.success ? form.data.next : undefined);
    const refused = async (reason: string) => {
      const answer = await refuse(site, c, new ApiError(401, "unauthenticated", reason));
      if (answer.status !== 401) return errorPage(c, answer);
      return page(c, {
        title: "Sign in",
        children: <SignInPage next={next} problem={`This token was not accepted: ${reason}.`} />,
      }, 401);
    };
    if (!form.success) return await refused("no token was given");
    const check = await checkToken(site.db, form.data.token, ["viewer", "admin"]);
    if (!check.ok) return await refused(check.reason);
    startSession(c, form.data.token);
    return c.redirect(next, 303);
  });

  app.post("/sign-out", sameOrigin, (c) => {
    endSession(c);
    return c.redirect("/sign-in", 303);
  });

  // The pages for signed-in people, each named: a catch-all would also catch the API's paths.
  const people = new Hono<SiteEnv>();
  for (const path of PEOPLE_PATHS) people.use(path, signedIn(site), sameOrigin);

  people.get("/", async (c) =>
    page(c, {
      title: "Overview",
      section: "overview",
      children: <OverviewPage o={await loadOverview(site)} url={url(c)} />,
    }));

  people.get("/programs/:rule", async (c) => {
    const rule = ruleId(c.req.param("rule"));
    const month = c.req.query("month") || undefined;
    const program = await loadProgram(site, rule, month);
    return page(c, {
      title: program.ruleName,
      section: "programs",
      children: <ProgramPage p={program} url={url(c)} />,
    });
  });

  people.get("/reports/:file{[a-z-]+\\.csv}", async (c) => {
    const name = c.req.param("file").replace(/\.csv$/, "");
    const params = Object.fromEntries(
      Object.entries(c.req.query()).filter(([k]) => k !== "format"),
    );
    if (!findReport(name)) throw notFound(`no report ${name}`);
    return await reportCsv(c, site, name, params);
  });

  people.get("/rules", async (c) =>
    page(c, {
      title: "Rules",
      section: "rules",
      children: (
        <RulesPage
          rules={await listRules(site)}
          url={url(c)}
          admin={c.get("token").role === "admin"}
          notice={c.req.query("done")}
        />
      ),
    }));

  people.get(
    "/rules.csv",
    async (c) => csvDownload(c, "rules", toCsv(RULE_COLUMNS, await listRules(site))),
  );

  people.get("/rules/new", (c) => {
    requireAdmin(c.get("token"));
    const values: FormValues = { version: "*", enabled: true, applyToChildSites: false };
    return ruleFormPage(c, { values, errors: {}, admin: true });
  });

  people.post("/rules", limit, async (c) => {
    requireAdmin(c.get("token"));
    const values = formValues(await c.req.parseBody());
    const check = checkRuleForm(values);
    if (!check.ok) {
      return ruleFormPage(c, { values, errors: check.errors, admin: true }, 400);
    }
    const rule = await editor.create(check.fields);
    return c.redirect(`/rules?done=${encodeURIComponent(`Rule ${rule.id} created.`)}`, 303);
  });

  people.get("/rules/:id", async (c) => {
    const rule = await findRule(site, c.req.param("id"));
    const admin = c.get("token").role === "admin" && rule.siteCode === site.code;
    return ruleFormPage(c, { values: valuesOf(rule), errors: {}, rule, admin });
  });

  people.post("/rules/:id", limit, async (c) => {
    const rule = await ownRule(site, c);
    const values = formValues(await c.req.parseBody());
    const check = checkRuleForm(values);
    if (!check.ok) {
      return ruleFormPage(c, { values, errors: check.errors, rule, admin: true }, 400);
    }
    await editor.update(rule.id, check.fields);
    return c.redirect(`/rules?done=${encodeURIComponent(`Rule ${rule.id} saved.`)}`, 303);
  });

  people.post("/rules/:id/enabled", limit, async (c) => {
    const rule = await ownRule(site, c);
    const enabled = (await c.req.parseBody()).enabled === "on";
    await editor.update(rule.id, { enabled });
    const done = `Rule ${rule.id} ${enabled ? "enabled" : "disabled"}.`;
    return c.redirect(`/rules?done=${encodeURIComponent(done)}`, 303);
  });

  people.get("/rules/:id/delete", async (c) => {
    const rule = await ownRule(site, c);
    return page(c, {
      title: `Delete ${rule.id}?`,
      section: "rules",
      children: (
        <form method="post" action={`/rules/${rule.id}/delete`} class="actions">
          <p>
            Agents stop metering {rule.name}; the sessions already recorded stay in the reports.
          </p>
          <button type="submit" class="danger">Delete {rule.id}</button>
          <a href={`/rules/${rule.id}`}>Cancel</a>
        </form>
      ),
    });
  });

  people.post("/rules/:id/delete", async (c) => {
    const rule = await ownRule(site, c);
    await editor.remove(rule.id);
    return c.redirect(`/rules?done=${encodeURIComponent(`Rule ${rule.id} deleted.`)}`, 303);
  });

  people.get("/clients", async (c) =>
    page(c, {
      title: "Clients",
      section: "clients",
      children: <ClientsPage clients={await listClients(site)} url={url(c)} />,
    }));

  people.get(
    "/clients.csv",
    async (c) => csvDownload(c, "clients", toCsv(CLIENT_COLUMNS, await listClients(site))),
  );

  people.get("/clients/:id", async (c) => {
    const [client] = await listClients(site, c.req.param("id"));
    if (!client) throw notFound(`no client ${c.req.param("id")}`);
    const { sessions } = await listSessions(site, {
      client: client.clientId,
      limit: CLIENT_SESSIONS_SHOWN,
      order: "desc",
    });
    return page(c, {
      title: client.hostName || client.clientId,
      section: "clients",
      children: <ClientPage client={client} sessions={sessions} url={url(c)} />,
    });
  });

  people.get("/clients/:id/sessions.csv", async (c) => {
    const { sessions } = await listSessions(site, {
      client: c.req.param("id"),
      limit: 100_000,
      order: "asc",
    });
    return csvDownload(c, "sessions", toCsv(SESSION_COLUMNS, sessions));
  });

  licencePages(people, site, page, limit);

  app.route("/", people);
  return app;
}

function errorTitle(status: number): string {
  if (status === 403) return "Not allowed";
  if (status === 404) return "Not found";
  if (status === 413) return "Too large";
  if (status === 429) return "Too many requests";
  return "That did not work";
}

function ruleId(id: string): string {
  if (!ruleIdSchema.safeParse(id).success) throw badRequest(`${id} is not a rule id (like S01-7)`);
  return id;
}

async function findRule(site: SiteContext, id: string): Promise<Rule> {
  const rule = (await listRules(site)).find((r) => r.id === ruleId(id));
  if (!rule) throw notFound(`no rule ${id}`);
  return rule;
}

/** A rule this site may change, by an admin: another site's rule is changed at its origin. */
async function ownRule(site: SiteContext, c: Context<SiteEnv>): Promise<Rule> {
  requireAdmin(c.get("token"));
  const rule = await findRule(site, c.req.param("id")!);
  if (rule.siteCode !== site.code) {
    throw new ApiError(
      403,
      "forbidden",
      `rule ${rule.id} belongs to site ${rule.siteCode}; change it there`,
    );
  }
  return rule;
}
