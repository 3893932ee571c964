/**
 * Access on a real site over loopback: tokens are listed without secrets and
 * revoked at once; an agent's credential is revoked at once; every refused
 * request (401, 403) lands in the audit log with its time, peer, endpoint
 * and reason, which only admins read, and no secret ever appears there.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createToken } from "../site/tokens.ts";
import { enrollFakeAgent, itemFor, newRecordDoc, sendBatch } from "./helpers/fake_agent.ts";
import { type ReportSite, startReportSite } from "./helpers/report_site.ts";
import { api } from "./helpers/site_api.ts";
import { inventoryDocId } from "../sync/doc_id.ts";

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

  test("a revoked agent credential is refused at its next sync", async () => {
    const agent = await enrollFakeAgent(r.url, r.enroll);
    const doc = newRecordDoc(agent.actor);
    expect((await sendBatch(r.url, agent, [itemFor(inventoryDocId(agent.clientId), doc)])).status)
      .toBe(200);
    const revoked = await api(r.url, r.admin, "DELETE", `/v1/clients/${agent.clientId}/credential`);
    expect(revoked.status).toBe(204);
    const after = await sendBatch(r.url, agent, [itemFor(inventoryDocId(agent.clientId), doc)]);
    expect(after.status).toBe(401);
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
    expect((await csv.text()).split(/\r?\n/)[0]).toBe("at,peer,method,path,status,code,reason");
    expect((await api(r.url, r.admin, "GET", "/v1/audit?limit=0")).status).toBe(400);
  });
});
