/**
 * The console's licence pages over HTTP on a real site process: the list
 * draws each position as a bar whose lengths are its figures, sorts by
 * shortfall, and a licence's page shows its trend and reclaim candidates;
 * an admin records a licence through the form with the API's own checks
 * (a bad quantity is shown beside its field and nothing is stored); a
 * viewer, a stranger and another origin change nothing; HTML in a name is
 * text on every page; the overview shows the alerts.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { DAY_MS, dayOf, dayStart } from "../model/doc_id.ts";
import type { Licence } from "../model/licence.ts";
import { MIN, sendClient, type TruthRun } from "./helpers/licence_truth.ts";
import { type SiteHandle, startSite } from "./helpers/meter_process.ts";
import { tempDir } from "./helpers/metered_program.ts";
import { addRule, api, makeToken } from "./helpers/site_api.ts";

const TODAY = dayStart(dayOf(Date.now()));
const HOSTILE = `<img src=x onerror=alert(1)>`;

describe("licence pages of the web console", () => {
  let temp: Awaited<ReturnType<typeof tempDir>>;
  let site: SiteHandle;
  let admin: string;
  let adminCookie: string;
  let viewerCookie: string;
  let rule: string;
  let short: Licence;
  let roomy: Licence;

  beforeAll(async () => {
    temp = await tempDir();
    site = await startSite(temp.dir);
    admin = await makeToken(site.db, "admin");
    adminCookie = await signIn(admin);
    viewerCookie = await signIn(await makeToken(site.db, "viewer"));
    rule = (await addRule(site.url, admin, { name: "cad", fileName: "cad" })).id;
    const runs: TruthRun[] = ["ann", "bob", "cat"].map((user, i) => ({
      client: `pc-${i}`,
      program: "cad",
      user,
      start: TODAY - DAY_MS + 9 * 3_600_000,
      end: TODAY - DAY_MS + 9 * 3_600_000 + 20 * MIN,
    }));
    const enroll = await makeToken(site.db, "enroll");
    for (let i = 0; i < 4; i++) {
      const installs = i < 3 ? ["cad"] : [];
      await sendClient(site.url, enroll, { name: `pc-${i}`, site: "S01", installs }, runs, {
        cad: rule,
      });
    }
    short = await licence({ name: HOSTILE, model: "concurrent", quantity: 2, unitCost: 500 });
    roomy = await licence({ name: "CAD seats", model: "device", quantity: 8, unitCost: 100 });
    await post("/v1/summaries/run");
    await post("/v1/licences/refresh");
  });

  afterAll(async () => {
    await site?.process.stop();
    await temp?.remove();
  });

  async function licence(fields: Record<string, unknown>): Promise<Licence> {
    const response = await api(site.url, admin, "POST", "/v1/licences", {
      ruleIds: [rule],
      ...fields,
    });
    expect(response.status).toBe(201);
    return await response.json();
  }

  async function post(path: string) {
    const response = await api(site.url, admin, "POST", path);
    expect(response.status).toBe(200);
    await response.body?.cancel();
  }

  function browse(path: string, cookie?: string, form?: URLSearchParams, origin?: string) {
    const headers: Record<string, string> = { origin: origin ?? new URL(site.url).origin };
    if (cookie) headers.cookie = cookie;
    if (form) headers["content-type"] = "application/x-www-form-urlencoded";
    return fetch(new URL(path, site.url), {
      method: form ? "POST" : "GET",
      headers,
      body: form,
      redirect: "manual",
    });
  }

  async function signIn(token: string): Promise<string> {
    const response = await browse("/sign-in", undefined, new URLSearchParams({ token, next: "/" }));
    expect(response.status).toBe(303);
    return response.headers.get("set-cookie")!.split(";")[0];
  }

  const bars = (html: string) =>
    [...html.matchAll(
      /<g class="licence-bar" data-licence="([^"]+)" data-owned="(\d+)" data-consumed="(\d+)">(.*?)<\/g>/gs,
    )]
      .map(([, id, owned, consumed, inner]) => ({
        id,
        owned: Number(owned),
        consumed: Number(consumed),
        widths: Object.fromEntries(
          [...inner.matchAll(/<rect class="(\w+)"[^>]* width="([\d.]+)"/g)].map((
            [, kind, width],
          ) => [kind, Number(width)]),
        ),
      }));

  test("the list draws owned against consumed, and sorts by shortfall", async () => {
    const html =
      await (await browse("/licences?licences.sort=shortfall&licences.desc=1", viewerCookie))
        .text();
    const shown = bars(html);
    expect(shown.map((b) => b.id)).toEqual([short.id, roomy.id]);
    const [floating, seats] = shown;
    expect(floating).toMatchObject({ owned: 2, consumed: 3 });
    // On the row's own scale (3): owned 2/3 of the bar, the shortfall the last third.
    expect(floating.widths.owned).toBeCloseTo(240, 5);
    expect(floating.widths.consumed).toBeCloseTo(240, 5);
    expect(floating.widths.shortfall).toBeCloseTo(120, 5);
    expect(seats).toMatchObject({ owned: 8, consumed: 3 });
    expect(seats.widths.consumed).toBeCloseTo(135, 5);
    expect(seats.widths.shortfall).toBeUndefined();
    expect(html).not.toContain(HOSTILE);
    expect(html).toContain("&lt;img src=x onerror=alert(1)&gt;");
    // A viewer is offered no way to change anything.
    expect(html).not.toContain("/licences/new");
  });

  test("a licence's page shows its trend and its reclaim candidates, with their CSV", async () => {
    const html = await (await browse(`/licences/${roomy.id}`, viewerCookie)).text();
    expect(html).toContain('id="licence-trend"');
    expect(html).toContain(`/reports/reclaim-candidates.csv?licence=${roomy.id}`);
    // Every computer with it installed used it (20 minutes each): no candidate.
    expect(html).toContain("Every holder used it.");
    const csv = await browse(`/reports/reclaim-candidates.csv?licence=${roomy.id}`, viewerCookie);
    expect(csv.status).toBe(200);
    expect((await csv.text()).split(/\r?\n/)[0]).toContain("hostName");
    const floating = await (await browse(`/licences/${short.id}`, viewerCookie)).text();
    expect(floating).toContain("short of 1");
    expect(floating).not.toContain(HOSTILE);
  });

  test("an admin records a licence through the form; a bad quantity is named and nothing stored", async () => {
    const before = (await (await api(site.url, admin, "GET", "/v1/licences")).json()).licences;
    const form = (quantity: string) =>
      new URLSearchParams([
        ["name", "Viewer seats"],
        ["ruleIds", rule],
        ["model", "user"],
        ["quantity", quantity],
        ["costPeriod", "month"],
        ["unitCost", "12.5"],
        ["windowDays", "30"],
      ]);
    const refused = await browse("/licences", adminCookie, form("-1"));
    expect(refused.status).toBe(400);
    const page = await refused.text();
    expect(page).toMatch(/id="field-quantity-error">quantity cannot be negative/);
    expect(page).toContain('value="Viewer seats"'); // the values are kept
    const overRetention = await browse(
      "/licences",
      adminCookie,
      (() => {
        const f = form("3");
        f.set("windowDays", "900");
        return f;
      })(),
    );
    expect(overRetention.status).toBe(400);
    expect(await overRetention.text()).toMatch(
      /id="field-windowDays-error">[^<]*summaryRetentionDays/,
    );
    expect((await (await api(site.url, admin, "GET", "/v1/licences")).json()).licences).toEqual(
      before,
    );

    const created = await browse("/licences", adminCookie, form("3"));
    expect(created.status).toBe(303);
    const after: Licence[] =
      (await (await api(site.url, admin, "GET", "/v1/licences")).json()).licences;
    expect(after.find((l) => l.name === "Viewer seats")).toMatchObject({
      ruleIds: [rule],
      model: "user",
      quantity: 3,
      costPeriod: "month",
      unitCost: 12.5,
      windowDays: 30,
    });
  });

  test("a viewer, a stranger and another origin change nothing", async () => {
    const before = (await (await api(site.url, admin, "GET", "/v1/licences")).json()).licences;
    const form = new URLSearchParams([["name", "x"], ["ruleIds", rule], ["model", "user"], [
      "quantity",
      "1",
    ]]);
    expect((await browse("/licences", viewerCookie, form)).status).toBe(403);
    expect((await browse(`/licences/${roomy.id}/edit`, viewerCookie, form)).status).toBe(403);
    expect(
      (await browse(`/licences/${roomy.id}/delete`, viewerCookie, new URLSearchParams())).status,
    )
      .toBe(403);
    const stranger = await browse("/licences", undefined, form);
    expect([302, 303, 401]).toContain(stranger.status);
    const away = await browse("/licences", adminCookie, form, "https://evil.example");
    expect(away.status).toBe(403);
    const page = await browse("/licences", undefined);
    expect(page.status).toBe(303);
    expect(page.headers.get("location")).toMatch(/^\/sign-in/);
    expect((await (await api(site.url, admin, "GET", "/v1/licences")).json()).licences).toEqual(
      before,
    );
  });

  test("the overview shows the latest licence alert", async () => {
    const html = await (await browse("/", viewerCookie)).text();
    expect(html).toMatch(/id="licence-alerts"/);
    expect(html).toMatch(/data-kind="shortfall"/);
    expect(html).toContain("short of 1 licence(s)");
    expect(html).not.toContain(HOSTILE);
  });
});
