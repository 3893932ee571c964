/**
 * The licences API of a real site process: create, read, change and delete
 * with an admin token, defaults filled in, CSV beside JSON, and the
 * `licences/S01` document agreeing with the API; every bad value refused
 * with 400 naming the field and nothing stored; and what each stranger to
 * the admin role may do: a viewer reads, and an agent's credential, a
 * `site` or `enroll` token and a request without a token do nothing.
 */
import * as A from "@automerge/automerge";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { licencesDocId } from "../model/doc_id.ts";
import type { Licence } from "../model/licence.ts";
import { decodeLicence } from "../model/licence_record.ts";
import { enrollFakeAgent } from "./helpers/fake_agent.ts";
import { tempDir } from "./helpers/metered_program.ts";
import { type SiteHandle, startSite } from "./helpers/meter_process.ts";
import { addRule, api, makeToken } from "./helpers/site_api.ts";
import { storedDocBytes } from "./helpers/site_tables.ts";

describe("licences API", () => {
  let temp: Awaited<ReturnType<typeof tempDir>>;
  let site: SiteHandle;
  let admin: string;
  let viewer: string;
  let rule: string;
  let other: string;

  beforeAll(async () => {
    temp = await tempDir("meter-licences-");
    site = await startSite(temp.dir);
    admin = await makeToken(site.db, "admin");
    viewer = await makeToken(site.db, "viewer");
    rule = (await addRule(site.url, admin, { name: "CAD 24", fileName: "cad24" })).id;
    other = (await addRule(site.url, admin, { name: "CAD 25", fileName: "cad25" })).id;
  });

  afterAll(async () => {
    await site?.process.stop();
    await temp?.remove();
  });

  const list = async (token = admin): Promise<Licence[]> =>
    (await (await api(site.url, token, "GET", "/v1/licences")).json()).licences;

  const create = async (fields: Record<string, unknown>) =>
    await api(site.url, admin, "POST", "/v1/licences", {
      name: "CAD",
      ruleIds: [rule],
      model: "device",
      quantity: 10,
      ...fields,
    });

  /** The licences as the `licences/S01` document holds them. */
  async function inDocument(): Promise<Licence[]> {
    const bytes = await storedDocBytes(site.db, licencesDocId("S01"));
    if (!bytes) return [];
    const doc = A.load<Record<string, unknown>>(bytes);
    return Object.entries(doc).map(([key, value]) => decodeLicence(key, value));
  }

  test("create, read, change, delete; defaults filled; the document agrees", async () => {
    const created = await create({ name: "CAD seats", ruleIds: [rule, other], unitCost: 99.5 });
    expect(created.status).toBe(201);
    const licence: Licence = await created.json();
    expect(licence).toMatchObject({
      id: "S01-L1",
      name: "CAD seats",
      ruleIds: [rule, other],
      model: "device",
      quantity: 10,
      unitCost: 99.5,
      costPeriod: "year",
      currency: "",
      contractStart: null,
      contractEnd: null,
      coversSite: "S01",
      thresholdMinutes: 1,
      windowDays: 90,
      alertAtPercent: null,
      siteCode: "S01",
      comment: "",
    });
    expect(await (await api(site.url, viewer, "GET", `/v1/licences/${licence.id}`)).json())
      .toEqual(licence);
    const patched = await api(site.url, admin, "PATCH", `/v1/licences/${licence.id}`, {
      quantity: 12,
      contractEnd: "2027-12-31",
    });
    expect(patched.status).toBe(200);
    const changed: Licence = await patched.json();
    expect(changed).toMatchObject({ quantity: 12, contractEnd: "2027-12-31", name: "CAD seats" });
    expect(await list()).toEqual([changed]);
    expect(await inDocument()).toEqual([changed]);

    const csv = await api(site.url, viewer, "GET", "/v1/licences?format=csv");
    const [header, row] = (await csv.text()).trim().split(/\r?\n/);
    expect(header.split(",").slice(0, 4)).toEqual(["id", "name", "ruleIds", "model"]);
    expect(row).toContain(`${rule} ${other}`);

    expect((await api(site.url, admin, "DELETE", `/v1/licences/${licence.id}`)).status).toBe(204);
    expect(await list()).toEqual([]);
    expect(await inDocument()).toEqual([]);
    // Numbers are never reused.
    const next: Licence = await (await create({})).json();
    expect(next.id).toBe("S01-L2");
    await api(site.url, admin, "DELETE", `/v1/licences/${next.id}`);
  });

  test.each([
    ["an unknown rule", { ruleIds: ["S01-999"] }, "ruleIds", /no rule S01-999/],
    ["no rule", { ruleIds: [] }, "ruleIds", /at least one/],
    ["a rule twice", { ruleIds: ["S01-1", "S01-1"] }, "ruleIds", /twice/],
    ["a malformed rule id", { ruleIds: ["../etc"] }, "ruleIds", /S01-7/],
    ["a negative quantity", { quantity: -1 }, "quantity", /negative/],
    ["a fractional quantity", { quantity: 2.5 }, "quantity", /expected int/],
    ["a quantity as text", { quantity: "10" }, "quantity", /number/],
    ["an unknown model", { model: "floating" }, "model", /device, user, concurrent/],
    ["a negative cost", { unitCost: -5 }, "unitCost", /negative/],
    ["a window over retention", { windowDays: 401 }, "windowDays", /summaryRetentionDays/],
    ["a window of no days", { windowDays: 0 }, "windowDays", /at least 1/],
    [
      "a contract ending before it starts",
      {
        contractStart: "2027-01-01",
        contractEnd: "2026-12-31",
      },
      "contractEnd",
      /before contractStart/,
    ],
    ["a date that is not one", { contractEnd: "2026-02-30" }, "contractEnd", /real calendar/],
    ["a site not below this one", { coversSite: "ZZZ" }, "coversSite", /not this site/],
    ["a lower-case currency", { currency: "eur" }, "currency", /3-letter/],
    ["an unknown field", { owner: "me" }, "owner", /nrecognized|unknown/i],
    ["a name of 10,000 characters", { name: "x".repeat(10_000) }, "name", /200/],
    ["no name", { name: "  " }, "name", /name is required/],
    [
      "a threshold over 100,000 minutes",
      { thresholdMinutes: 100_001 },
      "thresholdMinutes",
      /100000/,
    ],
  ])("%s is refused with 400 naming %s; nothing is stored", async (_, fields, field, message) => {
    const before = await list();
    const response = await create(fields);
    const body = await response.json();
    expect(response.status, JSON.stringify(body)).toBe(400);
    expect(body.error.message).toContain(field);
    expect(body.error.message).toMatch(message);
    expect(await list()).toEqual(before);
  });

  test("a PATCH is checked as a create is, and a refused one changes nothing", async () => {
    const licence: Licence = await (await create({ contractStart: "2026-01-01" })).json();
    for (
      const fields of [
        { contractEnd: "2025-12-31" },
        { ruleIds: ["S01-999"] },
        { quantity: -3 },
        {},
      ]
    ) {
      const response = await api(site.url, admin, "PATCH", `/v1/licences/${licence.id}`, fields);
      expect(response.status, JSON.stringify(fields)).toBe(400);
    }
    expect(await list()).toEqual([licence]);
    await api(site.url, admin, "DELETE", `/v1/licences/${licence.id}`);
  });

  test("bodies: too large is 413, not JSON 400, another type 415; nothing stored", async () => {
    const big = await create({ comment: "x".repeat(70_000) });
    expect(big.status).toBe(413);
    const notJson = await fetch(new URL("/v1/licences", site.url), {
      method: "POST",
      headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
      body: "{name:",
    });
    expect(notJson.status).toBe(400);
    await notJson.body?.cancel();
    const form = await fetch(new URL("/v1/licences", site.url), {
      method: "POST",
      headers: { authorization: `Bearer ${admin}`, "content-type": "text/plain" },
      body: "{}",
    });
    expect(form.status).toBe(415);
    await form.body?.cancel();
    expect(await list()).toEqual([]);
  });

  test("hostile ids in the path are 400 or 404, never a 500; HTML in a name is kept as text", async () => {
    for (
      const id of ["..%2FS01-L1", "S01-L1%3BDROP", "S01-1", "s01-l1", "S01-L" + "9".repeat(20)]
    ) {
      const response = await api(site.url, admin, "GET", `/v1/licences/${id}`);
      expect([400, 404], id).toContain(response.status);
      expect((await response.json()).error.message).toBeTruthy();
    }
    const name = `<script>alert("x")</script>`;
    const made: Licence = await (await create({ name })).json();
    const read = await api(site.url, viewer, "GET", `/v1/licences/${made.id}`);
    expect(read.headers.get("content-type")).toContain("application/json");
    expect((await read.json()).name).toBe(name);
    await api(site.url, admin, "DELETE", `/v1/licences/${made.id}`);
  });

  test("a viewer reads but changes nothing; agents, site and enroll tokens and strangers do nothing", async () => {
    const licence: Licence = await (await create({})).json();
    const agent = await enrollFakeAgent(site.url, await makeToken(site.db, "enroll"));
    const tokens = {
      viewer,
      agent: `${agent.clientId}.${agent.secret}`,
      site: await makeToken(site.db, "site"),
      enroll: await makeToken(site.db, "enroll"),
      none: "",
    };
    const attempts: [string, string, unknown?][] = [
      ["POST", "/v1/licences", { name: "x", ruleIds: [rule], model: "user", quantity: 1 }],
      ["PATCH", `/v1/licences/${licence.id}`, { quantity: 0 }],
      ["DELETE", `/v1/licences/${licence.id}`],
      ["POST", "/v1/licences/refresh"],
    ];
    for (const [who, token] of Object.entries(tokens)) {
      for (const [method, path, body] of attempts) {
        const response = await api(site.url, token, method, path, body);
        // An agent's credential is no API token at all: 401, like none.
        expect(response.status, `${who} ${method} ${path}`).toBe(
          token && who !== "agent" ? 403 : 401,
        );
        await response.body?.cancel();
      }
      const read = await api(site.url, token, "GET", "/v1/licences");
      const refused = token && who !== "agent" ? 403 : 401;
      expect(read.status, `${who} reads`).toBe(who === "viewer" ? 200 : refused);
      await read.body?.cancel();
      const events = await api(site.url, token, "GET", "/v1/licences/events");
      expect(events.status, `${who} reads events`).toBe(who === "viewer" ? 200 : refused);
      await events.body?.cancel();
    }
    expect(await list()).toEqual([licence]);
  });
});
