/**
 * `GET/PATCH /v1/settings` on a real site database: admins only; a PATCH
 * changes the fields it names, is validated as a whole (400 naming the
 * field, and then nothing changes), is stored so a restart keeps it, and is
 * in force at once for the site's retention.
 */
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { errorResponse } from "../site/http/api_error.ts";
import type { SiteEnv } from "../site/routes/auth.ts";
import { runMaintenance } from "../site/usage/retention.ts";
import { settingsRoutes } from "../site/routes/settings_routes.ts";
import { type SiteContext } from "../site/site_context.ts";
import { closeSite, openSite } from "../site/site_server.ts";
import { DEFAULT_SETTINGS, loadSettings } from "../site/site_settings.ts";
import { createToken } from "../site/access/tokens.ts";
import { tempDir } from "./helpers/metered_program.ts";
import { sessionRowsStatements } from "./helpers/session_rows.ts";

const DAY_MS = 86_400_000;

describe("settings", () => {
  let temp: Awaited<ReturnType<typeof tempDir>>;
  let db: string;
  let site: SiteContext;
  let app: Hono<SiteEnv>;
  let admin: string;
  let viewer: string;

  async function open(): Promise<void> {
    site = await openSite({ db, code: "S01", settings: { summarizeIntervalSeconds: 20 } });
    app = new Hono<SiteEnv>();
    app.onError(errorResponse);
    app.route("/v1/settings", settingsRoutes(site));
  }

  beforeAll(async () => {
    temp = await tempDir("meter-settings-");
    db = `${temp.dir}/site.db`;
    await open();
    admin = (await createToken(site.db, "admin")).token;
    viewer = (await createToken(site.db, "viewer")).token;
  });

  afterAll(async () => {
    if (site) closeSite(site);
    await temp?.remove();
  });

  function request(method: string, token: string, body?: unknown): Promise<Response> {
    return Promise.resolve(app.request("/v1/settings", {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    }));
  }

  test("admins read the settings in force; viewers and strangers may not", async () => {
    const response = await request("GET", admin);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ...DEFAULT_SETTINGS, summarizeIntervalSeconds: 20 });
    expect((await request("GET", viewer)).status).toBe(403);
    expect((await request("PATCH", viewer, { rawRetentionDays: 5 })).status).toBe(403);
    expect((await request("GET", "nonsense")).status).toBe(401);
  });

  test("invalid changes are refused naming the field, and change nothing", async () => {
    const before = { ...site.settings };
    const stored = await loadSettings(site.db, DEFAULT_SETTINGS);
    const refused: [unknown, string][] = [
      [{ rawRetentionDays: 0 }, "rawRetentionDays"],
      [{ rawRetentionDays: "10" }, "rawRetentionDays"],
      [{ summarizeIntervalSeconds: 1.5 }, "summarizeIntervalSeconds"],
      [{ runningRefreshSeconds: null }, "runningRefreshSeconds"],
      [{ retention: 3 }, "retention"],
      [{}, "changes nothing"],
      [{ summaryRetentionDays: 10 }, "summaryRetentionDays must be at least rawRetentionDays"],
      [{ rawRetentionDays: 500 }, "summaryRetentionDays must be at least rawRetentionDays"],
      [[1], "expected object"],
    ];
    for (const [body, message] of refused) {
      const response = await request("PATCH", admin, body);
      const text = await response.text();
      expect(response.status, text).toBe(400);
      expect(JSON.parse(text).error.message).toContain(message);
    }
    expect(site.settings).toEqual(before);
    expect(await loadSettings(site.db, DEFAULT_SETTINGS)).toEqual(stored);
  });

  test("a change applies at once to retention, is stored and survives a restart", async () => {
    const ended = Date.now() - 3 * DAY_MS;
    await site.db.batch(
      sessionRowsStatements([{ client: "c1", id: "s1", start: ended - 60_000, end: ended }]),
      "write",
    );
    const count = async () =>
      (await site.db.execute("SELECT count(*) AS n FROM usage_sessions")).rows[0].n;
    await runMaintenance(site.db, site.lock, site.settings);
    expect(await count()).toBe(1);

    const response = await request("PATCH", admin, { rawRetentionDays: 2 });
    expect(response.status).toBe(200);
    const expected = { ...DEFAULT_SETTINGS, summarizeIntervalSeconds: 20, rawRetentionDays: 2 };
    expect(await response.json()).toEqual(expected);
    expect(site.settings).toEqual(expected);
    await runMaintenance(site.db, site.lock, site.settings);
    expect(await count()).toBe(0);

    const second = await request("PATCH", admin, { summaryRetentionDays: 90 });
    expect(await second.json()).toEqual({ ...expected, summaryRetentionDays: 90 });
    closeSite(site);
    await open();
    expect(site.settings).toEqual({ ...expected, summaryRetentionDays: 90 });
    expect(await (await request("GET", admin)).json()).toEqual(site.settings);
  });
});
