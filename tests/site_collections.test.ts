/**
 * Collections on a real site database: each predicate of the membership
 * language and their combinations select exactly the computers they should,
 * from summaries, from sessions the summariser has not seen yet and from
 * sessions still running; membership follows the data when it changes
 * (including a session synced a moment ago through the real sync path);
 * invalid definitions are refused with 400 naming their place; reading
 * needs a viewer token and writing an admin token; CSV equals JSON.
 */
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { errorResponse } from "../site/http/api_error.ts";
import { createApp } from "../site/app.ts";
import type { SiteEnv } from "../site/routes/auth.ts";
import { collectionsSchema } from "../site/collections/collection_store.ts";
import type { Membership } from "../site/collections/membership.ts";
import { membersStatement } from "../site/collections/membership_sql.ts";
import { collectionsRoutes } from "../site/routes/collections_routes.ts";
import { type SiteContext } from "../site/site_context.ts";
import { closeSite, openSite } from "../site/site_server.ts";
import { createToken } from "../site/access/tokens.ts";
import { DAY_MS, dayOf, usageDocId } from "../model/doc_id.ts";
import { parseCsv } from "./helpers/csv_parse.ts";
import {
  enrollFakeAgent,
  itemFor,
  newRecordDoc,
  sendBatch,
  session,
  writeSessions,
} from "./helpers/fake_agent.ts";
import { tempDir } from "./helpers/metered_program.ts";
import { api } from "./helpers/site_api.ts";
import { sessionRowsStatements } from "./helpers/session_rows.ts";

const NOW = Date.now();
const HOUR_MS = 3_600_000;

interface ClientRow {
  id: string;
  host: string;
  tz: string;
}

const CLIENTS: ClientRow[] = [
  { id: "alpha", host: "ws-alpha", tz: "Europe/Paris" },
  { id: "beta", host: "WS-beta", tz: "Europe/Paris" },
  { id: "gamma", host: "lab-gamma", tz: "America/New_York" },
  { id: "delta", host: "lab-delta", tz: "UTC" },
  { id: "epsilon", host: "kiosk_1", tz: "UTC" },
  { id: "zeta", host: "kioskX1", tz: "UTC" },
];

describe("collections", () => {
  let temp: Awaited<ReturnType<typeof tempDir>>;
  let site: SiteContext;
  let server: Deno.HttpServer<Deno.NetAddr>;
  let url: string;
  let admin: string;
  let viewer: string;
  let enroll: string;

  beforeAll(async () => {
    temp = await tempDir("meter-collections-");
    site = await openSite({ db: `${temp.dir}/site.db`, code: "S01" });
    for (const sql of collectionsSchema) await site.db.execute(sql);
    const app = new Hono<SiteEnv>();
    app.onError(errorResponse);
    app.route("/v1/collections", collectionsRoutes(site));
    app.route("/", createApp(site));
    server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, app.fetch);
    url = `http://127.0.0.1:${server.addr.port}`;
    admin = (await createToken(site.db, "admin")).token;
    viewer = (await createToken(site.db, "viewer")).token;
    enroll = (await createToken(site.db, "enroll", { uses: 10 })).token;
    await seed();
  });

  afterAll(async () => {
    await server?.shutdown();
    if (site) closeSite(site);
    await temp?.remove();
  });

  async function exec(sql: string, ...args: (string | number | null)[]): Promise<void> {
    await site.db.execute({ sql, args });
  }

  async function addRule(id: string): Promise<void> {
    await exec(
      `INSERT INTO rules (id, name, file_name, version, site_code, apply_to_child_sites, enabled,
        comment, origin, created_at, updated_at) VALUES (?, ?, ?, '*', 'S01', 0, 1, '', 'manual', 0, 0)`,
      id,
      `Program ${id}`,
      id.toLowerCase(),
    );
  }

  /** A summarised last use, as the summariser leaves it in `monthly_usage`. */
  async function summarised(rule: string, client: string, lastUse: number, user = "ann") {
    await exec(
      `INSERT INTO monthly_usage (rule_id, month, user_name, client_id, runs, run_ms, last_use_ms,
        remote_runs, remote_run_ms) VALUES (?, ?, ?, ?, 1, 1000, ?, 0, 0)`,
      rule,
      dayOf(lastUse).slice(0, 7),
      user,
      client,
      lastUse,
    );
  }

  /** A session materialised but not summarised yet, as materialisation leaves it. */
  async function pending(rule: string, client: string, start: number, end: number | null) {
    await exec(
      "INSERT INTO summary_pending (rule_id, client_id, start_ms, end_ms) VALUES (?, ?, ?, ?)",
      rule,
      client,
      start,
      end,
    );
  }

  async function running(rule: string, client: string, start: number, sessionId: string) {
    const rows = [{ client, id: sessionId, rule, start, end: null, updatedAt: NOW }];
    await site.db.batch(sessionRowsStatements(rows), "write");
  }

  async function seed(): Promise<void> {
    for (const c of CLIENTS) {
      await exec(
        `INSERT INTO clients (client_id, host_name, time_zone, enrolled_at, enrolled_with)
          VALUES (?, ?, ?, ?, 'test')`,
        c.id,
        c.host,
        c.tz,
        NOW - 100 * DAY_MS,
      );
    }
    await addRule("S01-1");
    await addRule("S01-2");
    await summarised("S01-1", "alpha", NOW - 2 * DAY_MS);
    await summarised("S01-1", "alpha", NOW - 70 * DAY_MS, "bob");
    await summarised("S01-1", "beta", NOW - 40 * DAY_MS);
    await pending("S01-1", "gamma", NOW - 2 * HOUR_MS, NOW - HOUR_MS);
    // Running for 60 days; its summarised last use is from an old refresh.
    await summarised("S01-1", "delta", NOW - 50 * DAY_MS);
    await running("S01-1", "delta", NOW - 60 * DAY_MS, "d1");
    await summarised("S01-2", "epsilon", NOW - 10 * DAY_MS);
  }

  async function members(definition: Membership, token = viewer): Promise<string[]> {
    const created = await api(url, admin, "POST", "/v1/collections", {
      name: `c-${crypto.randomUUID()}`,
      definition,
    });
    expect(created.status, await created.clone().text()).toBe(201);
    const { id } = await created.json();
    const response = await api(url, token, "GET", `/v1/collections/${id}/members`);
    expect(response.status).toBe(200);
    const body = await response.json();
    return body.members.map((m: { clientId: string }) => m.clientId).sort();
  }

  const sinceIso = (ms: number) => new Date(ms).toISOString();

  test("ranRule: summaries, unsummarised sessions and running sessions all count", async () => {
    const ran = (withinDays: number) => ({ ranRule: { rule: "S01-1", withinDays } });
    expect(await members(ran(7))).toEqual(["alpha", "delta", "gamma"]);
    expect(await members(ran(45))).toEqual(["alpha", "beta", "delta", "gamma"]);
    expect(await members(ran(0.01))).toEqual(["delta"]);
    expect(await members({ ranRule: { rule: "S01-2", withinDays: 7 } })).toEqual([]);
    expect(await members({ ranRule: { rule: "S01-2", withinDays: 11 } })).toEqual(["epsilon"]);
  });

  test("notRunSince: ran before, never at or after", async () => {
    const since = (rule: string, ms: number) => ({ notRunSince: { rule, since: sinceIso(ms) } });
    expect(await members(since("S01-1", NOW - 30 * DAY_MS))).toEqual(["beta"]);
    expect(await members(since("S01-1", NOW - DAY_MS))).toEqual(["alpha", "beta"]);
    expect(await members(since("S01-2", NOW - 5 * DAY_MS))).toEqual(["epsilon"]);
    // A last use exactly at `since` is a use at it.
    expect(await members(since("S01-2", NOW - 10 * DAY_MS))).toEqual([]);
    expect(await members(since("S01-2", NOW - 10 * DAY_MS + 1))).toEqual(["epsilon"]);
    // A plain date is midnight UTC.
    const day = dayOf(NOW - 20 * DAY_MS);
    expect(await members({ notRunSince: { rule: "S01-1", since: day } })).toEqual(["beta"]);
  });

  test("timeZone and hostName", async () => {
    expect(await members({ timeZone: { equals: "Europe/Paris" } })).toEqual(["alpha", "beta"]);
    expect(await members({ timeZone: { equals: "europe/paris" } })).toEqual([]);
    expect(await members({ hostName: { glob: "ws-*" } })).toEqual(["alpha", "beta"]);
    expect(await members({ hostName: { glob: "LAB-?ELTA" } })).toEqual(["delta"]);
    // `_` and `%` are literal characters, not LIKE wildcards.
    expect(await members({ hostName: { glob: "kiosk_1" } })).toEqual(["epsilon"]);
    expect(await members({ hostName: { glob: "kiosk%" } })).toEqual([]);
    expect(await members({ hostName: { glob: "*" } })).toEqual(CLIENTS.map((c) => c.id).sort());
  });

  test("and, or, not and nesting", async () => {
    const ran7 = { ranRule: { rule: "S01-1", withinDays: 7 } };
    const paris = { timeZone: { equals: "Europe/Paris" } };
    expect(await members({ and: [paris, ran7] })).toEqual(["alpha"]);
    expect(
      await members({ or: [{ timeZone: { equals: "UTC" } }, { hostName: { glob: "lab-*" } }] }),
    )
      .toEqual(["delta", "epsilon", "gamma", "zeta"]);
    expect(await members({ not: { ranRule: { rule: "S01-1", withinDays: 3650 } } }))
      .toEqual(["epsilon", "zeta"]);
    expect(await members({ not: { not: paris } })).toEqual(["alpha", "beta"]);
    const nested = {
      and: [
        { not: { timeZone: { equals: "UTC" } } },
        {
          or: [ran7, { notRunSince: { rule: "S01-1", since: sinceIso(NOW - 30 * DAY_MS) } }],
        },
      ],
    };
    expect(await members(nested)).toEqual(["alpha", "beta", "gamma"]);
  });

  test("membership follows the data", async () => {
    const created = await api(url, admin, "POST", "/v1/collections", {
      name: "recent S01-1",
      definition: { ranRule: { rule: "S01-1", withinDays: 7 } },
    });
    const { id } = await created.json();
    const now = async () => {
      const response = await api(url, viewer, "GET", `/v1/collections/${id}/members`);
      return (await response.json()).members.map((m: { clientId: string }) => m.clientId).sort();
    };
    expect(await now()).toEqual(["alpha", "delta", "gamma"]);
    await pending("S01-1", "beta", NOW - DAY_MS, NOW - DAY_MS + 60_000);
    await running("S01-1", "zeta", NOW - 1000, "z1");
    expect(await now()).toEqual(["alpha", "beta", "delta", "gamma", "zeta"]);
    await exec("UPDATE session_rows SET end_ms = ? WHERE session_id = 'd1'", NOW - 20 * DAY_MS);
    await exec("DELETE FROM session_rows WHERE session_id = 'z1'");
    await exec("DELETE FROM summary_pending WHERE client_id = 'beta'");
    expect(await now()).toEqual(["alpha", "gamma"]);
    await exec("UPDATE session_rows SET end_ms = NULL WHERE session_id = 'd1'");
    expect(await now()).toEqual(["alpha", "delta", "gamma"]);
  });

  test("a session synced a moment ago counts, before and after the summariser runs", async () => {
    const agent = await enrollFakeAgent(url, enroll, "fresh-host");
    const definition = {
      and: [{ hostName: { glob: "fresh-*" } }, { ranRule: { rule: "S01-2", withinDays: 1 } }],
    };
    const created = await api(url, admin, "POST", "/v1/collections", {
      name: "fresh",
      definition,
    });
    const { id } = await created.json();
    const list = async () => {
      const response = await api(url, viewer, "GET", `/v1/collections/${id}/members`);
      return (await response.json()).members.map((m: { hostName: string }) => m.hostName);
    };
    expect(await list()).toEqual([]);
    const start = Date.now() - 5 * 60_000;
    const day = dayOf(start);
    const doc = writeSessions(newRecordDoc(agent.actor), day, [
      session({ id: `${day}/1`, ruleId: "S01-2", user: "ann", start, end: start + 60_000 }),
    ]);
    const sent = await sendBatch(url, agent, [itemFor(usageDocId(agent.clientId, day), doc)]);
    expect(sent.status).toBe(200);
    expect(await list()).toEqual(["fresh-host"]);
    await site.summarizer.run();
    const waiting = await site.db.execute(
      "SELECT count(*) AS n FROM summary_pending " +
        "WHERE client_id = ?",
      [agent.clientId],
    );
    expect(waiting.rows[0].n).toBe(0);
    expect(await list()).toEqual(["fresh-host"]);
  });

  test("members as CSV equal the JSON, with the last sync time", async () => {
    await exec("UPDATE clients SET last_sync_at = ? WHERE client_id = 'alpha'", NOW);
    const created = await api(url, admin, "POST", "/v1/collections", {
      name: "Paris",
      description: "computers in Paris",
      definition: { timeZone: { equals: "Europe/Paris" } },
    });
    const collection = await created.json();
    expect(collection).toMatchObject({ name: "Paris", description: "computers in Paris" });
    const json = await (await api(url, viewer, "GET", `/v1/collections/${collection.id}/members`))
      .json();
    expect(json.collection).toEqual({ id: collection.id, name: "Paris" });
    expect(json.members).toEqual([
      {
        clientId: "beta",
        hostName: "WS-beta",
        timeZone: "Europe/Paris",
        lastSyncAt: null,
      },
      {
        clientId: "alpha",
        hostName: "ws-alpha",
        timeZone: "Europe/Paris",
        lastSyncAt: new Date(NOW).toISOString(),
      },
    ]);
    const csv = await api(
      url,
      viewer,
      "GET",
      `/v1/collections/${collection.id}/members?format=csv`,
    );
    expect(csv.headers.get("content-type")).toContain("text/csv");
    const rows = parseCsv(await csv.text());
    expect(rows[0]).toEqual(["clientId", "hostName", "timeZone", "lastSyncAt"]);
    expect(rows.slice(1)).toEqual(
      json.members.map((m: Record<string, string | null>) => [
        m.clientId,
        m.hostName,
        m.timeZone,
        m.lastSyncAt ?? "",
      ]),
    );
  });

  test("create, read, list and delete; a name is taken once", async () => {
    const definition = { hostName: { glob: "x*" } };
    const created = await api(url, admin, "POST", "/v1/collections", { name: "Xs", definition });
    expect(created.status).toBe(201);
    const collection = await created.json();
    expect(collection).toMatchObject({ name: "Xs", description: "", definition });
    const again = await api(url, admin, "POST", "/v1/collections", { name: "xs", definition });
    expect(again.status).toBe(409);
    expect((await again.json()).error.message).toContain("'xs' exists");
    const one = await api(url, viewer, "GET", `/v1/collections/${collection.id}`);
    expect(await one.json()).toEqual(collection);
    const list = await (await api(url, viewer, "GET", "/v1/collections")).json();
    expect(list.collections).toContainEqual(collection);
    expect((await api(url, admin, "DELETE", `/v1/collections/${collection.id}`)).status).toBe(204);
    expect((await api(url, viewer, "GET", `/v1/collections/${collection.id}`)).status).toBe(404);
    expect((await api(url, admin, "DELETE", `/v1/collections/${collection.id}`)).status).toBe(404);
    const members = await api(url, viewer, "GET", `/v1/collections/${collection.id}/members`);
    expect(members.status).toBe(404);
    expect((await api(url, viewer, "GET", "/v1/collections/abc")).status).toBe(400);
  });

  test("viewers read, only admins write, nobody without a token", async () => {
    const body = { name: "by viewer", definition: { timeZone: { equals: "UTC" } } };
    expect((await api(url, viewer, "POST", "/v1/collections", body)).status).toBe(403);
    expect((await api(url, "nonsense", "GET", "/v1/collections")).status).toBe(401);
    const created = await (await api(url, admin, "POST", "/v1/collections", {
      ...body,
      name: "by admin",
    })).json();
    expect((await api(url, viewer, "DELETE", `/v1/collections/${created.id}`)).status).toBe(403);
    expect((await api(url, enroll, "GET", `/v1/collections/${created.id}/members`)).status).toBe(
      403,
    );
    expect((await api(url, admin, "GET", `/v1/collections/${created.id}/members`)).status).toBe(
      200,
    );
  });

  test("invalid definitions are refused with 400 naming their place, and nothing is stored", async () => {
    const before = await site.db.execute("SELECT count(*) AS n FROM collections");
    const refused = async (definition: unknown, ...parts: string[]) => {
      const response = await api(url, admin, "POST", "/v1/collections", {
        name: `bad-${crypto.randomUUID()}`,
        definition,
      });
      const text = await response.text();
      expect(response.status, text).toBe(400);
      for (const part of parts) expect(JSON.parse(text).error.message).toContain(part);
    };
    const ok = { timeZone: { equals: "UTC" } };
    await refused(
      { and: [ok, { ranRule: { rule: "S01-99", withinDays: 3 } }] },
      "definition.and[1].ranRule.rule",
      "S01-99",
    );
    await refused(
      { or: [ok, { not: { notRunSince: { rule: "S01-77", since: "2026-01-01" } } }] },
      "definition.or[1].not.notRunSince.rule",
      "S01-77",
    );
    await refused(
      { and: [ok, { ranRule: { rule: "S01-1", withinDays: -1 } }] },
      "definition.and[1].ranRule.withinDays",
    );
    await refused(
      { and: [ok, { ranRule: { rule: "firefox", withinDays: 1 } }] },
      "definition.and[1].ranRule.rule",
    );
    await refused(
      { notRunSince: { rule: "S01-1", since: "2026-02-30" } },
      "definition.notRunSince.since",
    );
    await refused(
      { or: [ok, { timeZone: { equals: "UTC" }, hostName: { glob: "x" } }] },
      "definition.or[1]",
      "exactly one",
    );
    await refused({ or: [ok, {}] }, "definition.or[1]", "exactly one");
    await refused({ and: [] }, "definition.and");
    await refused({ xor: [ok] }, "xor");
    await refused({ hostName: { glob: "x", regex: "y" } }, "definition.hostName", "regex");
    let deep: unknown = ok;
    for (let i = 0; i < 9; i++) deep = { not: deep };
    await refused(deep, "definition.not.not.not.not.not.not.not.not", "deeper than 8");
    let veryDeep: unknown = ok;
    for (let i = 0; i < 1500; i++) veryDeep = { not: veryDeep };
    await refused(veryDeep, "deeper than 8");
    await refused({ or: Array.from({ length: 70 }, () => ok) }, "more than 64 expressions");
    const after = await site.db.execute("SELECT count(*) AS n FROM collections");
    expect(after.rows[0].n).toBe(before.rows[0].n);
  });

  test("the SQL binds every value the definition gives", () => {
    const hostile = "x' OR 1=1 --";
    const statement = membersStatement({
      and: [
        { hostName: { glob: hostile } },
        { timeZone: { equals: hostile } },
        { ranRule: { rule: "S01-1", withinDays: 1 } },
      ],
    }, NOW);
    const { sql, args } = statement as { sql: string; args: unknown[] };
    expect(sql).not.toContain("OR 1=1");
    expect(sql).not.toContain("S01-1");
    expect(args).toContain(hostile);
    expect(args).toContain("S01-1");
  });
});
