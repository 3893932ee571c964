/**
 * Access on a real site over loopback: tokens are listed without secrets and
 * revoked at once; an agent's credential is revoked at once; every refused
 * request (401, 403) lands in the audit log with its time, peer, endpoint
 * and reason, which only admins read, and no secret ever appears there.
 * Enrolment and child-site registration answer 401 for a token that is
 * unknown, revoked, expired or used up and 403 for a good token of another
 * role, and change nothing; every role's token notes when it was last used.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createToken, listTokens, revokeToken, type TokenRole } from "../site/access/tokens.ts";
import { newActorId } from "../lib/secret.ts";
import { enrollFakeAgent, itemFor, newRecordDoc, sendBatch } from "./helpers/fake_agent.ts";
import { type ReportSite, startReportSite } from "./helpers/report_site.ts";
import { api } from "./helpers/site_api.ts";
import { inventoryDocId } from "../model/doc_id.ts";

describe("tokens, credentials and the audit log", () => {
  let r: ReportSite;

  beforeAll(async () => {
    r = await startReportSite();
  });

  afterAll(() => r?.close());

  const audit = async () => {
    const response = await api(r.url, r.admin, "GET", "/v1/audit");
    expect(response.status).toBe(200);
    return (await response.json()).entries as Record<string, unknown>[];
  };

  test("tokens are listed without secrets, and a revoked one is refused at once", async () => {
    const doomed = await createToken(r.site.db, "viewer", { label: "to revoke" });
    expect((await api(r.url, doomed.token, "GET", "/v1/rules")).status).toBe(200);

    const listed = await api(r.url, r.admin, "GET", "/v1/tokens");
    const text = await listed.text();
    expect(text).not.toContain(doomed.token);
    const { tokens } = JSON.parse(text);
    expect(tokens.find((t: { id: string }) => t.id === doomed.id)).toMatchObject({
      role: "viewer",
      label: "to revoke",
      revokedAt: null,
    });
    for (const token of tokens) expect(Object.keys(token)).not.toContain("hash");

    expect((await api(r.url, r.admin, "DELETE", `/v1/tokens/${doomed.id}`)).status).toBe(204);
    const refused = await api(r.url, doomed.token, "GET", "/v1/rules");
    expect(refused.status).toBe(401);
    expect((await refused.json()).error.message).toContain("token revoked");
    expect((await api(r.url, r.admin, "DELETE", "/v1/tokens/nosuchtoken")).status).toBe(404);
    expect((await api(r.url, r.viewer, "GET", "/v1/tokens")).status).toBe(403);

    const entries = await audit();
    expect(entries.find((e) => e.reason === "token revoked")).toMatchObject({
      peer: "127.0.0.1",
      method: "GET",
      path: "/v1/rules",
      status: 401,
    });
    expect(entries.find((e) => e.path === "/v1/tokens" && e.status === 403)).toBeDefined();
    expect(JSON.stringify(entries)).not.toContain(doomed.token);
  });

  test("a revoked agent credential is refused at its next sync and rule wait", async () => {
    const agent = await enrollFakeAgent(r.url, r.enroll);
    const doc = newRecordDoc(agent.actor);
    const wait = () =>
      fetch(`${r.url}/v1/sync/wait?rules=00000000&seconds=0`, {
        headers: { authorization: agent.authorization },
      });
    // Both requests authenticated once before: the site now keeps the credential in memory.
    expect((await sendBatch(r.url, agent, [itemFor(inventoryDocId(agent.clientId), doc)])).status)
      .toBe(200);
    const before = await wait();
    expect(before.status).toBe(200);
    await before.body?.cancel();
    // Kept in memory, the credential still refuses a wrong secret for the same client.
    const forged = { ...agent, authorization: `Bearer ${agent.clientId}.not-the-secret` };
    const forgedSync = await sendBatch(r.url, forged, [
      itemFor(inventoryDocId(agent.clientId), doc),
    ]);
    expect(forgedSync.status).toBe(401);
    const revoked = await api(r.url, r.admin, "DELETE", `/v1/clients/${agent.clientId}/credential`);
    expect(revoked.status).toBe(204);
    const after = await sendBatch(r.url, agent, [itemFor(inventoryDocId(agent.clientId), doc)]);
    expect(after.status).toBe(401);
    const waitAfter = await wait();
    expect(waitAfter.status).toBe(401);
    await waitAfter.body?.cancel();
    const entries = await audit();
    expect(entries.find((e) => e.path === "/v1/sync" && e.status === 401)).toBeDefined();
    expect(JSON.stringify(entries)).not.toContain(agent.secret);
  });

  test("the audit log is for admins, filtered by time and limited", async () => {
    expect((await api(r.url, r.viewer, "GET", "/v1/audit")).status).toBe(403);
    const limited = await api(r.url, r.admin, "GET", "/v1/audit?limit=1");
    expect((await limited.json()).entries).toHaveLength(1);
    const future = await api(r.url, r.admin, "GET", "/v1/audit?since=2999-01-01T00:00:00Z");
    expect((await future.json()).entries).toEqual([]);
    const csv = await api(r.url, r.admin, "GET", "/v1/audit?format=csv");
    expect((await csv.text()).split(/\r?\n/)[0]).toBe(
      "at,peer,method,path,status,code,reason,count,lastAt",
    );
    expect((await api(r.url, r.admin, "GET", "/v1/audit?limit=0")).status).toBe(400);
  });
});

describe("token roles at enrolment and registration, and when tokens were last used", () => {
  let r: ReportSite;

  beforeAll(async () => {
    r = await startReportSite();
  });

  afterAll(() => r?.close());

  const post = (path: string, token: string, body: unknown) =>
    fetch(new URL(path, r.url), {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  const enrol = (token: string) =>
    post("/v1/enroll", token, { hostName: "pc", actor: newActorId() });
  const register = (token: string, code = "C01") =>
    post("/v1/sites/register", token, { code, actor: newActorId() });
  const count = async (table: string) =>
    Number((await r.site.db.execute(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);
  const tokenRow = async (id: string) => (await listTokens(r.site.db)).find((t) => t.id === id)!;

  /** Sends `attempt` and checks its status and message, and that nothing was enrolled or registered. */
  async function refused(attempt: Promise<Response>, status: number, message: string) {
    const before = [await count("clients"), await count("child_sites")];
    const response = await attempt;
    expect(response.status).toBe(status);
    expect((await response.json()).error.message).toBe(message);
    expect([await count("clients"), await count("child_sites")]).toEqual(before);
  }

  const badTokens = {
    unknown: () => Promise.resolve("mtr_not-a-token"),
    revoked: async (role: TokenRole) => {
      const made = await createToken(r.site.db, role);
      await revokeToken(r.site.db, made.id);
      return made.token;
    },
    expired: async (role: TokenRole) =>
      (await createToken(r.site.db, role, { expiresAt: Date.now() - 1 })).token,
    "used up": async (role: TokenRole) => {
      const made = await createToken(r.site.db, role, { uses: 1 });
      await r.site.db.execute({
        sql: "UPDATE tokens SET uses_left = 0 WHERE id = ?",
        args: [made.id],
      });
      return made.token;
    },
  };
  const reasons = {
    unknown: "unknown token",
    revoked: "token revoked",
    expired: "token expired",
    "used up": "token used up",
  };

  test.each(["admin", "viewer", "site"] as const)(
    "enrolling with a good %s token is 403 and enrols nothing",
    async (role) => {
      const token = await createToken(r.site.db, role, { uses: 5 });
      const a = role === "admin" ? "an" : "a";
      await refused(
        enrol(token.token),
        403,
        `cannot enrol: ${a} ${role} token may not do this (it needs an enroll token)`,
      );
      expect((await tokenRow(token.id)).usesLeft).toBe(5);
    },
  );

  test.each(["admin", "viewer", "enroll"] as const)(
    "registering a child site with a good %s token is 403 and registers nothing",
    async (role) => {
      const token = await createToken(r.site.db, role, { uses: 5 });
      const a = role === "viewer" ? "a" : "an";
      await refused(
        register(token.token),
        403,
        `cannot register: ${a} ${role} token may not do this (it needs a site token)`,
      );
      expect((await tokenRow(token.id)).usesLeft).toBe(5);
    },
  );

  test.each(Object.keys(badTokens) as (keyof typeof badTokens)[])(
    "enrolling with an enroll token that is %s is 401",
    async (kind) => {
      const token = await badTokens[kind]("enroll");
      await refused(enrol(token), 401, `cannot enrol: ${reasons[kind]}`);
    },
  );

  test.each(Object.keys(badTokens) as (keyof typeof badTokens)[])(
    "registering with a site token that is %s is 401",
    async (kind) => {
      const token = await badTokens[kind]("site");
      await refused(register(token), 401, `cannot register: ${reasons[kind]}`);
    },
  );

  test("a token of the wrong role for the API is 403 with a message in good English", async () => {
    const site = await createToken(r.site.db, "site");
    const response = await api(r.url, site.token, "GET", "/v1/rules");
    expect(response.status).toBe(403);
    expect((await response.json()).error.message).toBe(
      "a site token may not do this (it needs a viewer or an admin token)",
    );
  });

  const uses: Record<TokenRole, (token: string) => Promise<Response>> = {
    admin: (token) => api(r.url, token, "GET", "/v1/tokens"),
    viewer: (token) => api(r.url, token, "GET", "/v1/rules"),
    enroll: (token) => enrol(token),
    site: (token) => register(token, "C02"),
  };

  test.each(["admin", "viewer", "enroll", "site"] as const)(
    "the %s role: using a token sets its lastUsedAt",
    async (role) => {
      const token = await createToken(r.site.db, role);
      expect((await tokenRow(token.id)).lastUsedAt).toBeNull();
      const before = Date.now();
      const response = await uses[role](token.token);
      expect(response.status).toBeLessThan(300);
      const lastUsedAt = (await tokenRow(token.id)).lastUsedAt;
      expect(lastUsedAt).toBeGreaterThanOrEqual(before);
      expect(lastUsedAt).toBeLessThanOrEqual(Date.now());
    },
  );
});
