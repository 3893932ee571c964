/**
 * The rules API of a real site: create, read, change and delete with an
 * admin token, read-only access for viewers, 401 with a clear message
 * without a good token, validation that names the field, rule ids
 * `S01-<n>` that are never reused (not after a delete, not after a
 * restart), a PATCH that changes only the fields it names, CSV output
 * equal to the JSON, the `rules/S01` document agreeing with the API, and
 * an OpenAPI document that lists exactly the routes the app serves.
 */
import { consoleRoutes } from "../site/console/console_routes.tsx";
import * as A from "@automerge/automerge";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createApp } from "../site/app.ts";
import { REPORTS } from "../site/reports/report_registry.ts";
import { openSite } from "../site/site_server.ts";
import { openSiteDatabase } from "../site/site_db.ts";
import { createToken } from "../site/access/tokens.ts";
import { rulesDocId } from "../model/doc_id.ts";
import { type Rule, RULE_COLUMNS, type RuleFields } from "../model/rule.ts";
import { decodeRule } from "../model/rule_record.ts";
import { csvCell, parseCsv } from "./helpers/csv_parse.ts";
import { tempDir } from "./helpers/metered_program.ts";
import { type SiteHandle, startSite } from "./helpers/meter_process.ts";
import { addRule, api, makeToken } from "./helpers/site_api.ts";
import { storedDocBytes } from "./helpers/site_tables.ts";

const SHA = "A".repeat(64);

describe("rules API", () => {
  let temp: Awaited<ReturnType<typeof tempDir>>;
  let site: SiteHandle;
  let admin: string;
  let viewer: string;

  beforeAll(async () => {
    temp = await tempDir("meter-rules-");
    site = await startSite(temp.dir);
    admin = await makeToken(site.db, "admin");
    viewer = await makeToken(site.db, "viewer");
  });

  afterAll(async () => {
    await site?.process.stop();
    await temp?.remove();
  });

  async function listRules(token = admin): Promise<Rule[]> {
    const response = await api(site.url, token, "GET", "/v1/rules");
    expect(response.status).toBe(200);
    return (await response.json()).rules;
  }

  async function getRule(id: string, token = admin): Promise<Response> {
    return await api(site.url, token, "GET", `/v1/rules/${id}`);
  }

  /** The rules as the `rules/S01` document holds them, decoded from the site's file. */
  async function rulesInDocument(): Promise<Rule[]> {
    const bytes = await storedDocBytes(site.db, rulesDocId("S01"));
    const doc = A.load<Record<string, unknown>>(bytes!);
    return Object.entries(doc).map(([key, value]) => decodeRule(key, value))
      .sort((a, b) => a.id.localeCompare(b.id));
  }

  /** Expects `{error: {code, message}}` with the status, and a message matching. */
  async function expectError(response: Response, status: number, message: RegExp) {
    const text = await response.text();
    expect(response.status, text).toBe(status);
    const body = JSON.parse(text);
    expect(body.error.code).toEqual(expect.any(String));
    expect(body.error.message).toMatch(message);
  }

  const ruleNumber = (rule: Rule) => Number(/^S01-(\d+)$/.exec(rule.id)![1]);

  test("an admin creates, reads, lists, changes and deletes a rule", async () => {
    const fields: RuleFields = {
      name: "Visual Studio Code",
      fileName: "code*",
      originalFileName: "code",
      sha256: SHA,
      version: "1.9*",
      language: "en-US",
      applyToChildSites: true,
      enabled: false,
      comment: "pilot licence",
    };
    const before = Date.now();
    const response = await api(site.url, admin, "POST", "/v1/rules", fields);
    expect(response.status).toBe(201);
    const created: Rule = await response.json();
    expect(created).toEqual({
      ...fields,
      id: expect.stringMatching(/^S01-\d+$/),
      sha256: SHA.toLowerCase(),
      siteCode: "S01",
      origin: "manual",
      createdAt: expect.any(Number),
      updatedAt: created.createdAt,
    });
    expect(created.createdAt).toBeGreaterThanOrEqual(before);

    expect(await (await getRule(created.id)).json()).toEqual(created);
    expect(await listRules()).toContainEqual(created);

    const defaults = await addRule(site.url, admin, { name: "Defaults", originalFileName: "gimp" });
    expect(defaults).toMatchObject({
      fileName: null,
      sha256: null,
      version: "*",
      language: null,
      applyToChildSites: false,
      enabled: true,
      comment: "",
    });

    const patch = await api(site.url, admin, "PATCH", `/v1/rules/${created.id}`, {
      enabled: true,
    });
    expect(patch.status).toBe(200);
    const changed: Rule = await patch.json();
    expect(changed).toEqual({ ...created, enabled: true, updatedAt: expect.any(Number) });
    expect(changed.updatedAt).toBeGreaterThanOrEqual(created.updatedAt);
    expect(await (await getRule(created.id)).json()).toEqual(changed);
    // the API is a view of the rules document the agents receive
    expect(await rulesInDocument()).toEqual(await listRules());

    const deleted = await api(site.url, admin, "DELETE", `/v1/rules/${created.id}`);
    expect(deleted.status).toBe(204);
    expect(await deleted.text()).toBe("");
    await expectError(await getRule(created.id), 404, new RegExp(`no rule ${created.id}`));
    await expectError(
      await api(site.url, admin, "DELETE", `/v1/rules/${created.id}`),
      404,
      new RegExp(`no rule ${created.id}`),
    );
    expect((await listRules()).map((r) => r.id)).not.toContain(created.id);
    expect(await rulesInDocument()).toEqual(await listRules());
  });

  test("a viewer reads rules but may not write them", async () => {
    const rule = await addRule(site.url, admin, { name: "Viewer target", fileName: "vt" });
    const rules = await listRules();
    expect(await listRules(viewer)).toEqual(rules);
    expect(await (await getRule(rule.id, viewer)).json()).toEqual(rule);

    const refusal = /a viewer token may not do this \(it needs an admin token\)/;
    const writes: [string, string, unknown][] = [
      ["POST", "/v1/rules", { name: "Sneaky", fileName: "sneaky" }],
      ["PATCH", `/v1/rules/${rule.id}`, { name: "Renamed" }],
      ["DELETE", `/v1/rules/${rule.id}`, undefined],
    ];
    for (const [method, path, body] of writes) {
      await expectError(await api(site.url, viewer, method, path, body), 403, refusal);
    }
    expect(await listRules()).toEqual(rules);
  });

  test("no token or a bad token is refused with 401 and says why", async () => {
    const noToken = await fetch(new URL("/v1/rules", site.url));
    expect(noToken.headers.get("www-authenticate")).toBe("Bearer");
    await expectError(noToken, 401, /send the header 'Authorization: Bearer <token>'/);

    const basic = await fetch(new URL("/v1/rules", site.url), {
      headers: { authorization: `Basic ${btoa("admin:admin")}` },
    });
    await expectError(basic, 401, /Authorization: Bearer/);

    await expectError(
      await api(site.url, "mtr_not-a-token", "GET", "/v1/rules"),
      401,
      /unknown token/,
    );
    await expectError(
      await api(site.url, "mtr_not-a-token", "POST", "/v1/rules", { name: "x", fileName: "x" }),
      401,
      /unknown token/,
    );
    await expectError(
      await api(site.url, await expiredToken(), "GET", "/v1/rules"),
      401,
      /token expired/,
    );

    const enroll = await makeToken(site.db, "enroll");
    await expectError(await api(site.url, enroll, "GET", "/v1/rules"), 403, /enroll token may not/);
  });

  async function expiredToken(): Promise<string> {
    const db = await openSiteDatabase(site.db);
    try {
      return (await createToken(db, "admin", { expiresAt: Date.now() - 1000 })).token;
    } finally {
      db.close();
    }
  }

  test("invalid rules are refused with 400 naming the field, and nothing changes", async () => {
    const rules = await listRules();
    const target = await addRule(site.url, admin, { name: "Valid", fileName: "valid" });
    const withTarget = await listRules();
    const cases: [string, unknown, RegExp][] = [
      ["POST", { fileName: "x" }, /name/],
      ["POST", { name: "  ", fileName: "x" }, /name is required/],
      ["POST", { name: "Nothing to match" }, /fileName, originalFileName, sha256/],
      ["POST", { name: "x", sha256: "abc" }, /sha256 is 64 hexadecimal digits[\s\S]*sha256/],
      ["POST", { name: "x", sha256: "g".repeat(64) }, /sha256/],
      ["POST", { name: "x", fileName: "/usr/bin/python3" }, /has no '\/'[\s\S]*at fileName/],
      ["POST", { name: "x", originalFileName: "bin/python3" }, /at originalFileName/],
      ["POST", { name: "x", fileName: "x", bogus: 1 }, /Unrecognized key: "bogus"/],
      ["POST", { name: "x", fileName: "x", enabled: "yes" }, /at enabled/],
      ["POST", { name: "x", fileName: "x", comment: "c".repeat(2001) }, /at comment/],
      ["PATCH", { fileName: "a/b" }, /at fileName/],
      ["PATCH", { fileName: null }, /fileName, originalFileName, sha256/],
      ["PATCH", { id: "S01-1" }, /Unrecognized key: "id"/],
      ["PATCH", { createdAt: 0 }, /Unrecognized key: "createdAt"/],
      ["PATCH", {}, /the body changes nothing/],
    ];
    for (const [method, body, message] of cases) {
      const path = method === "POST" ? "/v1/rules" : `/v1/rules/${target.id}`;
      await expectError(await api(site.url, admin, method, path, body), 400, message);
    }
    expect(await listRules()).toEqual(withTarget);
    expect(withTarget.filter((r) => r.id !== target.id)).toEqual(rules);
    // a refused create took no rule number: the next one follows the target
    const next = await addRule(site.url, admin, { name: "Next", fileName: "next" });
    expect(ruleNumber(next)).toBe(ruleNumber(target) + 1);
  });

  test("rule ids are S01-<n> and never reused, after a delete or a restart", async () => {
    const made: Rule[] = [];
    for (const name of ["one", "two", "three"]) {
      made.push(await addRule(site.url, admin, { name, fileName: name }));
    }
    const numbers = made.map(ruleNumber);
    expect(numbers).toEqual([numbers[0], numbers[0] + 1, numbers[0] + 2]);

    const last = made[2];
    expect((await api(site.url, admin, "DELETE", `/v1/rules/${last.id}`)).status).toBe(204);
    const afterDelete = await addRule(site.url, admin, { name: "four", fileName: "four" });
    expect(ruleNumber(afterDelete)).toBe(ruleNumber(last) + 1);
    expect((await api(site.url, admin, "DELETE", `/v1/rules/${afterDelete.id}`)).status).toBe(204);

    const rules = await listRules();
    await site.process.stop();
    site = await startSite(temp.dir);
    expect(await listRules()).toEqual(rules);
    const afterRestart = await addRule(site.url, admin, { name: "five", fileName: "five" });
    expect(afterRestart.id).toBe(`S01-${ruleNumber(afterDelete) + 1}`);
  });

  test("a PATCH of one field keeps every other field", async () => {
    const rule = await addRule(site.url, admin, {
      name: "Full",
      fileName: "full",
      originalFileName: "full-orig",
      sha256: SHA,
      version: "2.*",
      language: "de",
      applyToChildSites: true,
      enabled: true,
      comment: "all set",
    });
    const changes: Partial<Rule>[] = [
      { name: "Full renamed" },
      { fileName: "full2" },
      { fileName: null },
      { originalFileName: "other" },
      { sha256: "b".repeat(64) },
      { sha256: null },
      { version: "3.0" },
      { language: null },
      { applyToChildSites: false },
      { enabled: false },
      { comment: "" },
    ];
    let current = rule;
    for (const change of changes) {
      const response = await api(site.url, admin, "PATCH", `/v1/rules/${rule.id}`, change);
      const text = await response.text();
      expect(response.status, `${JSON.stringify(change)}: ${text}`).toBe(200);
      const next = JSON.parse(text);
      expect(next).toEqual({ ...current, ...change, updatedAt: expect.any(Number) });
      expect(await (await getRule(rule.id)).json()).toEqual(next);
      current = next;
    }
    expect(current.createdAt).toBe(rule.createdAt);
    expect(await rulesInDocument()).toEqual(await listRules());
  });

  test("?format=csv and Accept: text/csv give CSV with a header row, equal to the JSON", async () => {
    await addRule(site.url, admin, {
      name: 'Quoted "name", with comma',
      fileName: "quoted",
      comment: "line one\nline two",
    });
    const rules = await listRules();
    const expected = [
      [...RULE_COLUMNS],
      ...rules.map((r) => RULE_COLUMNS.map((c) => csvCell(r[c]))),
    ];

    const asked = [
      await api(site.url, viewer, "GET", "/v1/rules?format=csv"),
      await fetch(new URL("/v1/rules", site.url), {
        headers: { authorization: `Bearer ${viewer}`, accept: "text/csv" },
      }),
    ];
    for (const response of asked) {
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe("text/csv; charset=utf-8");
      const rows = parseCsv(await response.text());
      expect(rows).toEqual(expected);
      expect(rows.length).toBeGreaterThan(2);
    }

    // an explicit format wins over the Accept header
    const json = await fetch(new URL("/v1/rules?format=json", site.url), {
      headers: { authorization: `Bearer ${viewer}`, accept: "text/csv" },
    });
    expect(json.headers.get("content-type")).toMatch(/^application\/json/);
    expect((await json.json()).rules).toEqual(rules);
  });

  test("GET /openapi.json lists exactly the routes the app serves", async () => {
    const response = await fetch(new URL("/openapi.json", site.url));
    expect(response.status).toBe(200);
    const doc = await response.json();
    expect(doc.openapi).toMatch(/^3\.1/);
    const documented = new Set<string>();
    for (const [path, item] of Object.entries(doc.paths as Record<string, object>)) {
      for (const method of Object.keys(item).filter((k) => k !== "parameters")) {
        documented.add(`${method.toUpperCase()} ${path}`);
      }
    }

    // what this suite exercises, each answered by a route (not the 404 fallback)
    const exercised = [
      "GET /v1/health",
      "GET /openapi.json",
      "GET /metrics",
      "POST /v1/enroll",
      "POST /v1/sync",
      "GET /v1/sync/wait",
      "GET /v1/rules",
      "POST /v1/rules",
      "POST /v1/rules/auto",
      "GET /v1/rules/{id}",
      "PATCH /v1/rules/{id}",
      "DELETE /v1/rules/{id}",
      "GET /v1/licences",
      "POST /v1/licences",
      "POST /v1/licences/refresh",
      "GET /v1/licences/events",
      "GET /v1/licences/{id}",
      "PATCH /v1/licences/{id}",
      "DELETE /v1/licences/{id}",
      "GET /v1/usage",
      "GET /v1/clients",
      "POST /v1/summaries/run",
      "GET /v1/reports",
      "GET /v1/collections",
      "POST /v1/collections",
      "GET /v1/collections/{id}",
      "DELETE /v1/collections/{id}",
      "GET /v1/collections/{id}/members",
      "POST /v1/query",
      "GET /v1/settings",
      "PATCH /v1/settings",
      "GET /v1/sites",
      "POST /v1/sites/register",
      "POST /v1/sites/sync",
      "DELETE /v1/sites/{code}",
      "GET /v1/tokens",
      "POST /v1/tokens",
      "DELETE /v1/tokens/{id}",
      "DELETE /v1/clients/{id}/credential",
      "GET /v1/audit",
      ...REPORTS.map((report) => `GET /v1/reports/${report.name}`),
    ];
    for (const route of exercised) {
      const [method, path] = route.split(" ");
      const answer = await api(site.url, admin, method, path.replace("{id}", "S01-999999"));
      const body = await answer.text();
      expect(body, route).not.toContain('"no route ');
    }

    expect([...documented].sort()).toEqual([...await servedRoutes()].sort());
    expect([...documented].sort()).toEqual([...exercised].sort());

    // request bodies are described by the schemas that validate them
    const create = doc.paths["/v1/rules"].post.requestBody.content["application/json"].schema;
    expect(Object.keys(create.properties).sort()).toEqual(
      [
        "applyToChildSites",
        "comment",
        "enabled",
        "fileName",
        "language",
        "name",
        "originalFileName",
        "sha256",
        "version",
      ],
    );
    expect(create.required).toEqual(["name"]);
    expect(create.additionalProperties).toBe(false);
  });

  /** Every method and path the Hono app routes for tools (not the console's pages), as OpenAPI writes them. */
  async function servedRoutes(): Promise<Set<string>> {
    const scratch = await tempDir("meter-routes-");
    const context = await openSite({ db: `${scratch.dir}/routes.db`, code: "S01" });
    const pages = new Set(consoleRoutes(context).routes.map((r) => `${r.method} ${r.path}`));
    try {
      return new Set(
        createApp(context).routes
          .filter((r) => r.method !== "ALL" && !pages.has(`${r.method} ${r.path}`))
          .flatMap((r) => {
            const route = `${r.method} ${r.path.replace(/:(\w+)/g, "{$1}")}`;
            // One route answers every report; OpenAPI documents each by name.
            return route === "GET /v1/reports/{name}"
              ? REPORTS.map((report) => `GET /v1/reports/${report.name}`)
              : [route];
          }),
      );
    } finally {
      context.db.close();
      await scratch.remove();
    }
  }
});
