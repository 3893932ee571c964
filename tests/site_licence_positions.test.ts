/**
 * Licence positions against ground truth at one site: twelve simulated
 * clients with known installs and known runs sync to a real site over
 * loopback (real enrolment, Automerge messages, materialisation, summaries),
 * and `licence-position` must give, for each model, what
 * `helpers/licence_truth.ts` computes from the same definitions: installs,
 * use above each licence's threshold in its window, the exact peak of
 * concurrent users of a pool of two rules, and nothing owned outside the
 * contract.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { DAY_MS, dayOf, dayStart } from "../model/doc_id.ts";
import type { Licence, LicenceFields } from "../model/licence.ts";
import {
  MIN,
  sendClient,
  type TruthClient,
  truthFigures,
  type TruthRun,
} from "./helpers/licence_truth.ts";
import { type ReportSite, startReportSite } from "./helpers/report_site.ts";
import { addRule, api } from "./helpers/site_api.ts";

const NOW = Date.now();
const TODAY = dayStart(dayOf(NOW));
const at = (daysAgo: number, hour: number, minute = 0) =>
  TODAY - daysAgo * DAY_MS + hour * 3_600_000 + minute * MIN;

const CLIENTS: TruthClient[] = Array.from({ length: 12 }, (_, i) => ({
  name: `host-${i}`,
  site: "S01",
  installs: [
    ...(i % 3 === 0 ? ["cad24"] : []),
    ...(i % 4 === 0 ? ["cad25"] : []),
    ...(i % 2 === 1 ? ["viewer"] : []),
  ],
}));
// Installed, never run.
CLIENTS.push({ name: "host-12", site: "S01", installs: ["cad25"] });

/**
 * Overlaps of a user with themself (two programs of the pool at once) and of
 * different users on different computers; a run below a minute; a run of no
 * length on a computer with nothing installed; a run older than a short
 * window.
 */
const RUNS: TruthRun[] = [];
const add = (client: number, program: string, user: string, start: number, minutes: number) =>
  RUNS.push({ client: `host-${client}`, program, user, start, end: start + minutes * MIN });
// Two days ago, 10:00-11:00: ann on 0 (both programs at once), bob on 4, cat on 8: 3 users.
add(0, "cad24", "ann", at(2, 10), 60);
add(0, "cad25", "ann", at(2, 10, 15), 30);
add(4, "cad25", "bob", at(2, 10, 20), 20);
add(8, "cad25", "cat", at(2, 10, 30), 5);
// ann again, on 3, at 10:35: she counts once; bob has left at 10:40.
add(3, "cad24", "ann", at(2, 10, 35), 10);
add(6, "cad24", "dan", at(5, 9), 0.5);
add(9, "cad24", "eve", at(5, 9), 12);
add(2, "cad25", "fay", at(5, 9, 6), 0);
add(0, "cad24", "gus", at(12, 14), 180);
for (const client of [1, 3, 5]) add(client, "viewer", `v${client}`, at(1, 8), 15);

describe("licence positions at one site, against ground truth", () => {
  let r: ReportSite;
  const rules: Record<string, string> = {};

  beforeAll(async () => {
    r = await startReportSite();
    for (const name of ["cad24", "cad25", "viewer"]) {
      rules[name] = (await addRule(r.url, r.admin, { name, fileName: name })).id;
    }
    for (const client of CLIENTS) await sendClient(r.url, r.enroll, client, RUNS, rules);
    await r.site.summarizer.run();
  });

  afterAll(() => r?.close());

  const addLicence = async (fields: Omit<LicenceFields, "ruleIds"> & { pool: string[] }) => {
    const { pool, ...rest } = fields;
    const body = { ...rest, ruleIds: pool.map((program) => rules[program]) };
    const response = await api(r.url, r.admin, "POST", "/v1/licences", body);
    const created = await response.json();
    if (response.status !== 201) throw new Error(JSON.stringify(created));
    return created as Licence;
  };

  const positions = async () => {
    const refreshed = await api(r.url, r.admin, "POST", "/v1/licences/refresh");
    expect(refreshed.status).toBe(200);
    const response = await api(r.url, r.viewer, "GET", "/v1/reports/licence-position");
    const body = await response.json();
    if (response.status !== 200) throw new Error(JSON.stringify(body));
    return new Map<string, Record<string, unknown>>(
      body.rows.map((row: { licenceId: string }) => [row.licenceId, row]),
    );
  };

  test("each model counts what the ground truth says, and costs follow", async () => {
    const cad = ["cad24", "cad25"];
    const device = await addLicence({
      name: "CAD per device",
      pool: cad,
      model: "device",
      quantity: 3,
      unitCost: 100,
      windowDays: 30,
    });
    const user = await addLicence({
      name: "CAD named users",
      pool: cad,
      model: "user",
      quantity: 5,
      unitCost: 40,
      windowDays: 7,
      thresholdMinutes: 10,
    });
    const concurrent = await addLicence({
      name: "CAD floating",
      pool: cad,
      model: "concurrent",
      quantity: 2,
      unitCost: 900,
      windowDays: 30,
    });
    const rows = await positions();

    const d = truthFigures(CLIENTS, RUNS, { pool: cad, windowDays: 30, thresholdMinutes: 1 }, NOW);
    const deviceConsumed = d.installed + d.usedComputers - d.installedUsed;
    expect(rows.get(device.id)).toMatchObject({
      model: "device",
      owned: 3,
      installed: d.installed,
      used: d.usedComputers,
      consumed: deviceConsumed,
      reclaimable: d.installed - d.installedUsed,
      shortfall: Math.max(0, deviceConsumed - 3),
      surplus: Math.max(0, 3 - deviceConsumed),
      shortfallCost: Math.max(0, deviceConsumed - 3) * 100,
      sites: 1,
    });

    const u = truthFigures(CLIENTS, RUNS, { pool: cad, windowDays: 7, thresholdMinutes: 10 }, NOW);
    // ann, bob (20 min) and eve (12); not cat (5), dan, fay, nor gus, older than the window.
    expect(u.usedUsers).toBe(3);
    expect(rows.get(user.id)).toMatchObject({
      owned: 5,
      consumed: u.usedUsers,
      used: u.usedUsers,
      reclaimable: u.knownUsers - u.usedUsers,
      surplus: 2,
      surplusCost: 80,
    });

    expect(d.peak.users).toBe(3);
    expect(rows.get(concurrent.id)).toMatchObject({
      consumed: 3,
      peakAt: new Date(d.peak.at!).toISOString(),
      shortfall: 1,
      shortfallCost: 900,
    });
    expect(Date.parse(rows.get(concurrent.id)!.computedAt as string)).toBeGreaterThanOrEqual(NOW);
  });

  const report = async (name: string, query: Record<string, string>) => {
    const response = await api(
      r.url,
      r.viewer,
      "GET",
      `/v1/reports/${name}?${new URLSearchParams(query)}`,
    );
    const body = await response.json();
    return { status: response.status, body };
  };

  const patch = async (licence: Licence, fields: Partial<LicenceFields>) => {
    const response = await api(r.url, r.admin, "PATCH", `/v1/licences/${licence.id}`, fields);
    expect(response.status).toBe(200);
    return await response.json() as Licence;
  };

  test("reclaim candidates: installed computers, and known users, below the threshold", async () => {
    const cad = ["cad24", "cad25"];
    const device = await addLicence({
      name: "CAD seats",
      pool: cad,
      model: "device",
      quantity: 10,
      unitCost: 250,
      currency: "EUR",
      windowDays: 7,
    });
    await positions();
    const { status, body } = await report("reclaim-candidates", { licence: device.id });
    expect(status).toBe(200);
    const window = TODAY - 6 * DAY_MS;
    const usedMs = (client: string) =>
      RUNS.filter((run) =>
        run.client === client && cad.includes(run.program) && run.start >= window
      )
        .reduce((sum, run) => sum + run.end - run.start, 0);
    const idle = CLIENTS.filter((c) => c.installs.some((p) => cad.includes(p)))
      .filter((c) => usedMs(c.name) < MIN).map((c) => c.name).sort();
    // host-6 (dan) ran it for 30 s, host-12 never; 0, 3, 4, 8, 9 used it this week.
    expect(idle).toEqual(["host-12", "host-6"]);
    expect(body.rows.map((row: { hostName: string }) => row.hostName).sort()).toEqual(idle);
    expect(body.rows[0]).toMatchObject({ hostName: "host-12", lastUse: null, windowMinutes: 0 });
    const dan = body.rows.find((row: { hostName: string }) => row.hostName === "host-6");
    expect(dan).toMatchObject({ user: null, windowMinutes: 0.5, saving: 250, currency: "EUR" });
    expect(dan.lastUse).toBe(new Date(at(5, 9) + 30_000).toISOString());

    const user = await addLicence({
      name: "CAD users",
      pool: cad,
      model: "user",
      quantity: 10,
      windowDays: 7,
      thresholdMinutes: 10,
    });
    await positions();
    const users = await report("reclaim-candidates", { licence: user.id, format: "json" });
    // Known users below 10 minutes in the week: cat (5), dan, fay, and gus (only 12 days ago).
    expect(users.body.rows.map((row: { user: string }) => row.user).sort())
      .toEqual(["cat", "dan", "fay", "gus"]);
    // Never used first, then the longest unused: gus ran it longest ago.
    expect(users.body.rows[0].user).toBe("gus");
    const csv = await api(
      r.url,
      r.viewer,
      "GET",
      `/v1/reports/reclaim-candidates?licence=${user.id}&format=csv`,
    );
    expect((await csv.text()).split(/\r?\n/)[0]).toBe(
      "clientId,hostName,user,installedAt,lastUse,windowMinutes,saving,currency",
    );
  });

  test("a concurrent licence has no reclaim candidates: 400 naming the licence", async () => {
    const floating = await addLicence({
      name: "f",
      pool: ["cad24"],
      model: "concurrent",
      quantity: 1,
    });
    const { status, body } = await report("reclaim-candidates", { licence: floating.id });
    expect(status).toBe(400);
    expect(body.error.message).toMatch(/licence: .*concurrent/);
    const unknown = await report("reclaim-candidates", { licence: "S01-L999" });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toMatch(/licence: no licence S01-L999/);
  });

  test("a licence outside its contract owns nothing; its shortfall is all it consumes", async () => {
    const yesterday = dayOf(NOW - DAY_MS);
    const ended = await addLicence({
      name: "viewer, expired",
      pool: ["viewer"],
      model: "device",
      quantity: 10,
      unitCost: 5,
      contractStart: "2020-01-01",
      contractEnd: yesterday,
    });
    const future = await addLicence({
      name: "viewer, next year",
      pool: ["viewer"],
      model: "device",
      quantity: 10,
      contractStart: dayOf(NOW + 400 * DAY_MS),
    });
    const current = await addLicence({
      name: "viewer, ends today",
      pool: ["viewer"],
      model: "device",
      quantity: 10,
      contractEnd: dayOf(NOW),
    });
    const rows = await positions();
    const installed = CLIENTS.filter((c) => c.installs.includes("viewer")).length;
    expect(rows.get(ended.id)).toMatchObject({
      inContract: false,
      owned: 0,
      consumed: installed,
      shortfall: installed,
      shortfallCost: installed * 5,
    });
    expect(rows.get(future.id)).toMatchObject({ inContract: false, owned: 0 });
    expect(rows.get(current.id)).toMatchObject({
      inContract: true,
      owned: 10,
      surplus: 10 - installed,
    });
  });

  test("a threshold, a window and a rule taken out of the pool change the position at the next refresh", async () => {
    const licence = await addLicence({
      name: "CAD users, changing",
      pool: ["cad24", "cad25"],
      model: "user",
      quantity: 1,
      windowDays: 7,
      thresholdMinutes: 10,
    });
    const consumed = async () => (await positions()).get(licence.id)!.consumed;
    expect(await consumed()).toBe(3); // ann, bob, eve
    // Exactly eve's 12 minutes: she still counts; at 13 she does not.
    await patch(licence, { thresholdMinutes: 12 });
    expect(await consumed()).toBe(3);
    await patch(licence, { thresholdMinutes: 13 });
    expect(await consumed()).toBe(2);
    // A 30-day window reaches gus's 3 hours.
    await patch(licence, { windowDays: 30 });
    expect(await consumed()).toBe(3);
    // Without cad25, bob (who ran only cad25) no longer counts; ann's cad24 time still does.
    await patch(licence, { ruleIds: [rules.cad24] });
    expect(await consumed()).toBe(2);

    const floating = await addLicence({
      name: "CAD floating, changing",
      pool: ["cad24", "cad25"],
      model: "concurrent",
      quantity: 1,
      windowDays: 30,
    });
    expect((await positions()).get(floating.id)!.consumed).toBe(3);
    // cad24 alone: ann (0 and 3) with no one else at once; gus and eve and dan ran alone too.
    await patch(floating, { ruleIds: [rules.cad24] });
    const cad24 = truthFigures(CLIENTS, RUNS, {
      pool: ["cad24"],
      windowDays: 30,
      thresholdMinutes: 1,
    }, NOW);
    expect((await positions()).get(floating.id)!.consumed).toBe(cad24.peak.users);
    expect(cad24.peak.users).toBe(2); // dan and eve, both at 09:00 five days ago
  });

  test("licence-trend: consumed against owned per month", async () => {
    const licence = await addLicence({
      name: "CAD trend",
      pool: ["cad24", "cad25"],
      model: "user",
      quantity: 2,
      thresholdMinutes: 10,
      contractStart: "2020-01-01",
    });
    await positions();
    const { status, body } = await report("licence-trend", { licence: licence.id, months: "3" });
    expect(status).toBe(200);
    expect(body.rows).toHaveLength(3);
    const byMonth = new Map<string, number>();
    for (const run of RUNS.filter((run) => run.program.startsWith("cad"))) {
      const key = `${new Date(run.start).toISOString().slice(0, 7)} ${run.user}`;
      byMonth.set(key, (byMonth.get(key) ?? 0) + run.end - run.start);
    }
    for (const row of body.rows) {
      const users = [...byMonth].filter(([key, ms]) => key.startsWith(row.month) && ms >= 10 * MIN);
      expect(row).toEqual({
        month: row.month,
        owned: 2,
        consumed: users.length,
        shortfall: Math.max(0, users.length - 2),
      });
    }
    expect(body.rows.at(-1).month).toBe(dayOf(NOW).slice(0, 7));
  });

  test("a refresh with nothing new counts nothing again; new usage is counted at the next", async () => {
    const licence = await addLicence({
      name: "CAD, refreshed",
      pool: ["cad24"],
      model: "device",
      quantity: 1,
      windowDays: 30,
    });
    const refresh = async () =>
      await (await api(r.url, r.admin, "POST", "/v1/licences/refresh")).json();
    expect((await refresh()).counted).toBe(true);
    const before = (await positions()).get(licence.id)!;
    expect((await refresh()).counted).toBe(false);
    const again = (await positions()).get(licence.id)!;
    expect({ ...again, computedAt: null }).toEqual({ ...before, computedAt: null });
    expect(Date.parse(again.computedAt as string)).toBeGreaterThanOrEqual(
      Date.parse(before.computedAt as string),
    );
    // A computer that had nothing runs it now: it is counted at the next refresh.
    const late: TruthRun = {
      client: "late-pc",
      program: "cad24",
      user: "hal",
      start: at(1, 8),
      end: at(1, 9),
    };
    await sendClient(
      r.url,
      r.enroll,
      { name: "late-pc", site: "S01", installs: [] },
      [late],
      rules,
    );
    await r.site.summarizer.run();
    expect((await refresh()).counted).toBe(true);
    expect((await positions()).get(licence.id)!.consumed).toBe(Number(before.consumed) + 1);
  });
});
