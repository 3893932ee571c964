/**
 * `/v1/rules`: list, read, create, change and delete metering rules. Reading
 * needs a viewer or admin token, writing an admin token. Rules are read from
 * the `rules` table and written through the {@linkcode RulesEditor}.
 *
 * @module
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { type Rule, RULE_COLUMNS, ruleFieldsSchema, ruleIdSchema } from "../../model/rule.ts";
import { badRequest, forbidden, notFound } from "../http/api_error.ts";
import { requireRole, type SiteEnv } from "./auth.ts";
import { listResponse } from "../http/list_response.ts";
import { jsonBody } from "../http/request_input.ts";
import { RulesEditor } from "../rules/rules_editor.ts";
import { ruleFromRow } from "../rules/rules_materializer.ts";
import type { SiteContext } from "../site_context.ts";
import { tooLarge } from "./too_large.ts";

export const ruleUpdateSchema = ruleFieldsSchema.partial();
const JSON_LIMIT = 64 * 1024;

export function rulesRoutes(site: SiteContext): Hono<SiteEnv> {
  const app = new Hono<SiteEnv>();
  const editor = new RulesEditor(site);
  const read = requireRole(site.db, "viewer", "admin");
  const write = requireRole(site.db, "admin");
  const limit = bodyLimit({ maxSize: JSON_LIMIT, onError: tooLarge(JSON_LIMIT) });

  app.get("/", read, async (c) => {
    const rules = await listRules(site);
    return listResponse(c, RULE_COLUMNS, rules, { rules });
  });
  app.post("/", write, limit, async (c) => {
    const fields = await jsonBody(c, ruleFieldsSchema);
    return c.json(await editor.create(fields), 201);
  });
  // Before `/:id`; runs whether or not the `autoRules` setting is on: an admin asked.
  app.post("/auto", write, async (c) => {
    const run = await site.autoRules.run();
    return c.json(run, run.created.length > 0 ? 201 : 200);
  });
  app.get("/:id", read, async (c) => c.json(await getRule(site, c.req.param("id"))));
  app.patch("/:id", write, limit, async (c) => {
    const existing = await ownRule(site, c.req.param("id"));
    const fields = await jsonBody(c, ruleUpdateSchema);
    if (Object.keys(fields).length === 0) throw badRequest("the body changes nothing");
    return c.json(await editor.update(existing.id, fields));
  });
  app.delete("/:id", write, async (c) => {
    const existing = await ownRule(site, c.req.param("id"));
    await editor.remove(existing.id);
    return c.body(null, 204);
  });
  return app;
}

export async function listRules(site: SiteContext): Promise<Rule[]> {
  const result = await site.db.execute("SELECT * FROM rules ORDER BY site_code, id");
  return result.rows.map((row) => ruleFromRow(row));
}

/** A rule this site may change: another site's rule is changed at its origin (403). */
async function ownRule(site: SiteContext, id: string): Promise<Rule> {
  const rule = await getRule(site, id);
  if (rule.siteCode !== site.code) {
    throw forbidden(`rule ${id} belongs to site ${rule.siteCode}; change it there`);
  }
  return rule;
}

async function getRule(site: SiteContext, id: string): Promise<Rule> {
  if (!ruleIdSchema.safeParse(id).success) throw badRequest(`${id} is not a rule id (like S01-7)`);
  const result = await site.db.execute({ sql: "SELECT * FROM rules WHERE id = ?", args: [id] });
  if (!result.rows[0]) throw notFound(`no rule ${id}`);
  return ruleFromRow(result.rows[0]);
}
