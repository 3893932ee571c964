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
});
