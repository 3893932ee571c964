/**
 * `POST /v1/tokens` on a real site over loopback: an admin creates tokens
 * of each role, whose secret is in the answer and nowhere else, that work
 * at once as created (label, uses, expiry), and whose creation is audited
 * with the admin token that made it. Then the attacks, each its own test:
 * every credential that is not an admin token (none, a viewer, an enroll
 * or site token, an agent's or a child site's credential, a revoked or
 * expired admin token) is refused 401 or 403, and every hostile body
 * (wrong types, unknown keys, huge or control-character labels, zero,
 * negative, fractional or huge uses and days, uses on a role that is not
 * used up, not JSON, not an object, too large) is refused 400 naming the
 * field (413, 415 for size and type); a refused request creates nothing.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createToken, revokeToken } from "../site/access/tokens.ts";
import { newActorId } from "../lib/secret.ts";
import { enrollFakeAgent } from "./helpers/fake_agent.ts";
import { type ReportSite, startReportSite } from "./helpers/report_site.ts";
import { api } from "./helpers/site_api.ts";

const DAY_MS = 86_400_000;

describe("POST /v1/tokens", () => {
  let r: ReportSite;

  beforeAll(async () => {
    r = await startReportSite();
  });

  afterAll(() => r?.close());

  const create = (body: unknown, token = r.admin) => api(r.url, token, "POST", "/v1/tokens", body);
  const tokenCount = async () =>
    Number((await r.site.db.execute("SELECT count(*) AS n FROM tokens")).rows[0].n);

  async function created(body: unknown) {
    const response = await create(body);
    expect(response.status).toBe(201);
    return await response.json();
  }

  test("an admin creates a viewer token that works at once, labelled and expiring", async () => {
    const before = Date.now();
    const made = await created({ role: "viewer", label: "Finance dashboard", expiresInDays: 30 });
    expect(Object.keys(made).sort()).toEqual(
      ["expiresAt", "id", "label", "role", "token", "usesLeft"],
    );
    expect(made).toMatchObject({ role: "viewer", label: "Finance dashboard", usesLeft: null });
    expect(made.token).toMatch(/^mtr_/);
    expect(made.expiresAt).toBeGreaterThanOrEqual(before + 30 * DAY_MS);
    expect(made.expiresAt).toBeLessThanOrEqual(Date.now() + 30 * DAY_MS);
    expect((await api(r.url, made.token, "GET", "/v1/rules")).status).toBe(200);
    expect((await api(r.url, made.token, "GET", "/v1/tokens")).status).toBe(403);

    const listed = await (await api(r.url, r.admin, "GET", "/v1/tokens")).text();
    expect(listed).not.toContain(made.token);
    expect(JSON.parse(listed).tokens.find((t: { id: string }) => t.id === made.id)).toMatchObject({
      role: "viewer",
      label: "Finance dashboard",
      expiresAt: new Date(made.expiresAt).toISOString(),
    });
  });

  test("the fewest fields make a token that never expires and is not used up", async () => {
    const made = await created({ role: "admin" });
    expect(made).toMatchObject({ role: "admin", label: "", expiresAt: null, usesLeft: null });
    expect((await create({ role: "viewer" }, made.token)).status).toBe(201);
  });

  test("an enroll token with uses enrols that many agents, then is used up", async () => {
    const made = await created({ role: "enroll", uses: 2, label: "lab PCs" });
    expect(made.usesLeft).toBe(2);
    await enrollFakeAgent(r.url, made.token);
    await enrollFakeAgent(r.url, made.token);
    await expect(enrollFakeAgent(r.url, made.token)).rejects.toThrow(/401.*token used up/);
  });

  test("a site token with uses registers a child site", async () => {
    const made = await created({ role: "site", uses: 1 });
    expect(made.usesLeft).toBe(1);
    const register = (code: string) =>
      fetch(new URL("/v1/sites/register", r.url), {
        method: "POST",
        headers: { authorization: `Bearer ${made.token}`, "content-type": "application/json" },
        body: JSON.stringify({ code, actor: newActorId() }),
      });
    expect((await register("T01")).status).toBe(201);
    expect((await register("T02")).status).toBe(401);
  });

  test("creating and revoking are audited with the admin who did it, never the secret", async () => {
    const made = await created({ role: "viewer", label: "audited" });
    expect((await api(r.url, r.admin, "DELETE", `/v1/tokens/${made.id}`)).status).toBe(204);
    const adminId = (await r.site.db.execute({
      sql: "SELECT id FROM tokens WHERE role = 'admin' ORDER BY created_at LIMIT 1",
    })).rows[0].id;
    const text = await (await api(r.url, r.admin, "GET", "/v1/audit")).text();
    expect(text).not.toContain(made.token);
    const entries = JSON.parse(text).entries as Record<string, unknown>[];
    expect(entries.find((e) => e.code === "token_created" && String(e.reason).includes(made.id)))
      .toMatchObject({
        method: "POST",
        path: "/v1/tokens",
        status: 201,
        peer: "127.0.0.1",
        reason: `created viewer token ${made.id} ("audited") by token ${adminId}`,
      });
    expect(entries.find((e) => e.code === "token_revoked")).toMatchObject({
      method: "DELETE",
      path: `/v1/tokens/${made.id}`,
      status: 204,
      reason: `revoked token ${made.id} by token ${adminId}`,
    });
  });

  describe("refused credentials create nothing", () => {
    /** Sends a valid body with `authorization`; expects `status` and no new token. */
    async function refused(authorization: string | undefined, status: number, message: RegExp) {
      const before = await tokenCount();
      const response = await fetch(new URL("/v1/tokens", r.url), {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(authorization ? { authorization } : {}),
        },
        body: JSON.stringify({ role: "admin", label: "escalation" }),
      });
      expect(response.status).toBe(status);
      expect((await response.json()).error.message).toMatch(message);
      expect(await tokenCount()).toBe(before);
    }

    test("no token: 401", () => refused(undefined, 401, /Authorization: Bearer/));

    test("a Basic credential: 401", () => refused("Basic YWRtaW46YWRtaW4=", 401, /Bearer/));

    test("an unknown token: 401", () => refused("Bearer mtr_made-up", 401, /unknown token/));

    test("a viewer token: 403", () =>
      refused(`Bearer ${r.viewer}`, 403, /a viewer token may not do this/));

    test("an enroll token: 403", () =>
      refused(`Bearer ${r.enroll}`, 403, /an enroll token may not do this/));

    test("a site token (a child site's, to register): 403", async () => {
      const site = await createToken(r.site.db, "site");
      await refused(`Bearer ${site.token}`, 403, /a site token may not do this/);
    });

    test("an agent's credential: 401", async () => {
      const agent = await enrollFakeAgent(r.url, r.enroll);
      await refused(agent.authorization, 401, /unknown token/);
    });

    test("a registered child site's credential: 401", async () => {
      const site = await createToken(r.site.db, "site");
      const registered = await fetch(new URL("/v1/sites/register", r.url), {
        method: "POST",
        headers: { authorization: `Bearer ${site.token}`, "content-type": "application/json" },
        body: JSON.stringify({ code: "C09", actor: newActorId() }),
      });
      expect(registered.status).toBe(201);
      const { secret } = await registered.json();
      await refused(`Bearer C09.${secret}`, 401, /unknown token/);
    });

    test("a revoked admin token: 401", async () => {
      const admin = await createToken(r.site.db, "admin");
      await revokeToken(r.site.db, admin.id);
      await refused(`Bearer ${admin.token}`, 401, /token revoked/);
    });

    test("an expired admin token: 401", async () => {
      const admin = await createToken(r.site.db, "admin", { expiresAt: Date.now() - 1 });
      await refused(`Bearer ${admin.token}`, 401, /token expired/);
    });
  });

  describe("hostile bodies are refused 400 naming the field, and create nothing", () => {
    /** Sends `body` as the raw request text; expects `status` with `message` and no new token. */
    async function refused(body: string, message: RegExp, status = 400) {
      const before = await tokenCount();
      const response = await fetch(new URL("/v1/tokens", r.url), {
        method: "POST",
        headers: { authorization: `Bearer ${r.admin}`, "content-type": "application/json" },
        body,
      });
      const error = (await response.json()).error;
      expect(response.status, error.message).toBe(status);
      expect(error.message).toMatch(message);
      expect(await tokenCount()).toBe(before);
    }

    const cases: [string, unknown, RegExp][] = [
      ["no role", {}, /role/],
      ["an unknown role", { role: "root" }, /role/],
      ["a role in capitals", { role: "ADMIN" }, /role/],
      ["a number for role", { role: 1 }, /role/],
      ["null for role", { role: null }, /role/],
      ["a list for role", { role: ["admin"] }, /role/],
      ["a number for label", { role: "viewer", label: 5 }, /label/],
      ["an object for label", { role: "viewer", label: {} }, /label/],
      ["a 201-character label", { role: "viewer", label: "x".repeat(201) }, /label/],
      ["a 3,000-character label", { role: "viewer", label: "x".repeat(3000) }, /label/],
      ["a label with a newline", { role: "viewer", label: "a\nb" }, /label/],
      ["a label with an escape", { role: "viewer", label: "a\u001b[31mb" }, /label/],
      ["zero uses", { role: "enroll", uses: 0 }, /uses/],
      ["negative uses", { role: "enroll", uses: -5 }, /uses/],
      ["fractional uses", { role: "enroll", uses: 1.5 }, /uses/],
      ["huge uses", { role: "enroll", uses: 1e12 }, /uses/],
      ["uses as text", { role: "enroll", uses: "5" }, /uses/],
      ["uses as true", { role: "enroll", uses: true }, /uses/],
      ["uses on an admin token", { role: "admin", uses: 5 }, /uses applies to enroll and site/],
      ["uses on a viewer token", { role: "viewer", uses: 5 }, /uses applies to enroll and site/],
      ["zero days", { role: "viewer", expiresInDays: 0 }, /expiresInDays/],
      ["negative days", { role: "viewer", expiresInDays: -1 }, /expiresInDays/],
      ["fractional days", { role: "viewer", expiresInDays: 0.5 }, /expiresInDays/],
      ["3,651 days", { role: "viewer", expiresInDays: 3651 }, /expiresInDays/],
      ["huge days", { role: "viewer", expiresInDays: 1e300 }, /expiresInDays/],
      ["days as text", { role: "viewer", expiresInDays: "7" }, /expiresInDays/],
      ["null days", { role: "viewer", expiresInDays: null }, /expiresInDays/],
      ["a chosen secret", { role: "admin", token: "mtr_mine" }, /token/],
      ["a chosen id", { role: "admin", id: "root" }, /"id"/],
      ["a chosen hash", { role: "admin", hash: "00" }, /hash/],
      ["an absolute expiresAt", { role: "admin", expiresAt: 0 }, /expiresAt/],
      ["a usesLeft", { role: "enroll", usesLeft: 5 }, /usesLeft/],
      ["a list", [{ role: "admin" }], /expected object/],
      ["a string", "admin", /expected object/],
      ["null", null, /expected object/],
    ];

    for (const [name, body, message] of cases) {
      test(name, () => refused(JSON.stringify(body), message));
    }

    test("a __proto__ key", () =>
      refused('{"role": "viewer", "__proto__": {"role": "admin"}}', /__proto__/));

    test("uses past what a number holds (1e400)", () =>
      refused('{"role": "enroll", "uses": 1e400}', /uses/));

    test("a body that is not JSON", () => refused('{"role": "admin"', /not valid JSON/));

    test("an empty body", () => refused("", /not valid JSON/));

    test("a body over 4 KiB: 413", () =>
      refused(
        JSON.stringify({ role: "viewer", label: "x".repeat(5000) }),
        /larger than this endpoint accepts \(4096 bytes\)/,
        413,
      ));

    test("a body that is not application/json: 415", async () => {
      const before = await tokenCount();
      const response = await fetch(new URL("/v1/tokens", r.url), {
        method: "POST",
        headers: { authorization: `Bearer ${r.admin}`, "content-type": "text/plain" },
        body: JSON.stringify({ role: "admin" }),
      });
      expect(response.status).toBe(415);
      expect(await tokenCount()).toBe(before);
    });
  });

  test("the OpenAPI document describes the request and the answer", async () => {
    const document = await (await fetch(new URL("/openapi.json", r.url))).json();
    const post = document.paths["/v1/tokens"].post;
    const request = post.requestBody.content["application/json"].schema;
    expect(request.required).toEqual(["role"]);
    expect(request.additionalProperties).toBe(false);
    expect(Object.keys(request.properties)).toEqual(["role", "label", "uses", "expiresInDays"]);
    expect(Object.keys(post.responses)).toEqual(["201", "400", "401", "403", "413", "415"]);
  });
});
