/**
 * Licence positions against ground truth at one site: twelve simulated
 * clients with known installs and known sessions sync to a real site over
 * loopback (real enrolment, Automerge messages, materialisation, summaries),
 * and `licence-position` must give, for each model, what the test computes
 * from its own definitions: installs, use above each licence's threshold in
 * its window, the exact peak of concurrent users of a pool of two rules, and
 * nothing owned outside the contract.
 */
import * as A from "@automerge/automerge";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { DAY_MS, dayOf, dayStart, inventoryDocId, usageDocId } from "../model/doc_id.ts";
import { encodeProduct, type InstalledProduct } from "../model/inventory_record.ts";
import type { Licence, LicenceFields } from "../model/licence.ts";
import type { Rule } from "../model/rule.ts";
import {
  enrollFakeAgent,
  type FakeAgent,
  itemFor,
  newRecordDoc,
  sendBatch,
  session,
  writeSessions,
} from "./helpers/fake_agent.ts";
import { type ReportSite, startReportSite } from "./helpers/report_site.ts";
import { addRule, api } from "./helpers/site_api.ts";

const CLIENTS = 12;
const NOW = Date.now();
const TODAY = dayStart(dayOf(NOW));
const MIN = 60_000;

interface Run {
  client: number;
  rule: "cad24" | "cad25" | "viewer";
  user: string;
  start: number;
  end: number;
}

/** Client i's installed programs. */
function installs(i: number): string[] {
  const programs: string[] = [];
  if (i % 3 === 0) programs.push("cad24");
  if (i % 4 === 0) programs.push("cad25");
  if (i % 2 === 1) programs.push("viewer");
  return programs;
}

/**
 * The runs: every day-offset a whole day ago or more, so each day is
 * complete; overlaps of a user with themself (two programs of the pool at
 * once) and of different users on different computers; a zero-length run.
 */
function runs(): Run[] {
  const at = (daysAgo: number, hour: number, minute = 0) =>
    TODAY - daysAgo * DAY_MS + hour * 3_600_000 + minute * MIN;
  const list: Run[] = [];
  const add = (client: number, rule: Run["rule"], user: string, start: number, minutes: number) =>
    list.push({ client, rule, user, start, end: start + minutes * MIN });
  // Day 2 ago, 10:00-11:00: ann on 0 (both programs at once), bob on 4, cat on 8 -> 3 users.
  add(0, "cad24", "ann", at(2, 10), 60);
  add(0, "cad25", "ann", at(2, 10, 15), 30);
  add(4, "cad25", "bob", at(2, 10, 20), 20);
  add(8, "cad25", "cat", at(2, 10, 30), 5);
  // ann again on 3 at 10:35: she is already counted; at 10:40 bob has left.
  add(3, "cad24", "ann", at(2, 10, 35), 10);
  // Day 5 ago: dan on 6 for 30 s (below a one-minute threshold), eve on 9 for 12 minutes.
  list.push({ client: 6, rule: "cad24", user: "dan", start: at(5, 9), end: at(5, 9) + 30_000 });
  add(9, "cad24", "eve", at(5, 9), 12);
  // A zero-length run of fay on 2, which has nothing installed.
  list.push({ client: 2, rule: "cad25", user: "fay", start: at(5, 9, 6), end: at(5, 9, 6) });
  // Day 12 ago: outside a 7-day window, inside 30 days: gus on 0 for 3 hours.
  add(0, "cad24", "gus", at(12, 14), 180);
  // The viewer, on odd computers.
  for (const client of [1, 3, 5]) add(client, "viewer", `v${client}`, at(1, 8), 15);
  return list;
}

const RUNS = runs();
const RULE_OF = { cad24: "", cad25: "", viewer: "" };

/** What the test expects, from its own definitions. */
function expected(pool: Run["rule"][], windowDays: number, thresholdMinutes: number) {
  const from = TODAY - (windowDays - 1) * DAY_MS;
  const inWindow = RUNS.filter((r) => pool.includes(r.rule) && r.start >= from);
  const sum = (key: (r: Run) => string | number) => {
    const totals = new Map<string | number, number>();
    for (const r of inWindow) totals.set(key(r), (totals.get(key(r)) ?? 0) + r.end - r.start);
    return [...totals].filter(([, ms]) => ms >= thresholdMinutes * MIN).map(([k]) => k);
  };
  const installed = Array.from({ length: CLIENTS }, (_, i) => i)
    .filter((i) => installs(i).some((p) => pool.includes(p as Run["rule"])));
  const usedComputers = sum((r) => r.client) as number[];
  return {
    installed: installed.length,
    usedComputers: usedComputers.length,
    installedUsed: usedComputers.filter((c) => installed.includes(c)).length,
    usedUsers: sum((r) => r.user).length,
    knownUsers: new Set(RUNS.filter((r) => pool.includes(r.rule)).map((r) => r.user)).size,
    peak: bruteForcePeak(inWindow),
  };
}

/** The most distinct users running at any one millisecond (a run of no length lasts one). */
function bruteForcePeak(list: Run[]): { users: number; at: number | null } {
  const instants = [...new Set(list.map((r) => r.start))].sort((a, b) => a - b);
  let best = { users: 0, at: null as number | null };
  for (const t of instants) {
    const users = new Set(
      list.filter((r) => r.start <= t && t < Math.max(r.end, r.start + 1)).map((r) => r.user),
    );
    if (users.size > best.users) best = { users: users.size, at: t };
  }
  return best;
}

describe("licence positions at one site, against ground truth", () => {
  let r: ReportSite;
  const agents: FakeAgent[] = [];
  const rules: Record<string, Rule> = {};

  beforeAll(async () => {
    r = await startReportSite();
    for (const name of ["cad24", "cad25", "viewer"] as const) {
      rules[name] = await addRule(r.url, r.admin, { name, fileName: name });
      RULE_OF[name] = rules[name].id;
    }
    for (let i = 0; i < CLIENTS; i++) {
      const agent = await enrollFakeAgent(r.url, r.enroll, `host-${i}`);
      agents.push(agent);
      const inventory = A.change(newRecordDoc(agent.actor), (d) => {
        for (const program of installs(i)) {
          d[`desktop/${program}`] = encodeProduct(desktop(program));
        }
      });
      const items = [itemFor(inventoryDocId(agent.clientId), inventory)];
      const byDay = new Map<string, Run[]>();
      for (const run of RUNS.filter((run) => run.client === i)) {
        const day = dayOf(run.start);
        byDay.set(day, [...byDay.get(day) ?? [], run]);
      }
      for (const [day, list] of byDay) {
        const usage = writeSessions(
          newRecordDoc(agent.actor),
          day,
          list.map((run, n) =>
            session({
              id: `${day}/${n + 1}`,
              ruleId: rules[run.rule].id,
              user: run.user,
              start: run.start,
              end: run.end,
            })
          ),
        );
        items.push(itemFor(usageDocId(agent.clientId, day), usage));
      }
      const sent = await sendBatch(r.url, agent, items);
      if (sent.status !== 200) throw new Error(JSON.stringify(sent));
    }
    await r.site.summarizer.run();
  });

  afterAll(() => r?.close());

  const addLicence = async (fields: LicenceFields): Promise<Licence> => {
    const response = await api(r.url, r.admin, "POST", "/v1/licences", fields);
    const body = await response.json();
    if (response.status !== 201) throw new Error(JSON.stringify(body));
    return body;
  };

  const positions = async () => {
    const refreshed = await api(r.url, r.admin, "POST", "/v1/licences/refresh");
    expect(refreshed.status).toBe(200);
    const response = await api(r.url, r.viewer, "GET", "/v1/reports/licence-position");
    const body = await response.json();
    if (response.status !== 200) throw new Error(JSON.stringify(body));
    return body.rows as Record<string, unknown>[];
  };

  test("each model counts what the ground truth says, and costs follow", async () => {
    const cad = [rules.cad24.id, rules.cad25.id];
    const device = await addLicence({
      name: "CAD per device",
      ruleIds: cad,
      model: "device",
      quantity: 3,
      unitCost: 100,
      windowDays: 30,
    });
    const user = await addLicence({
      name: "CAD named users",
      ruleIds: cad,
      model: "user",
      quantity: 5,
      unitCost: 40,
      windowDays: 7,
      thresholdMinutes: 10,
    });
    const concurrent = await addLicence({
      name: "CAD floating",
      ruleIds: cad,
      model: "concurrent",
      quantity: 2,
      unitCost: 900,
      windowDays: 30,
    });
    const rows = await positions();
    const row = (l: Licence) => rows.find((row) => row.licenceId === l.id)!;

    const d = expected(["cad24", "cad25"], 30, 1);
    const deviceConsumed = d.installed + d.usedComputers - d.installedUsed;
    expect(row(device)).toMatchObject({
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

    const u = expected(["cad24", "cad25"], 7, 10);
    expect(row(user)).toMatchObject({
      owned: 5,
      consumed: u.usedUsers,
      used: u.usedUsers,
      reclaimable: u.knownUsers - u.usedUsers,
      surplus: Math.max(0, 5 - u.usedUsers),
      surplusCost: Math.max(0, 5 - u.usedUsers) * 40,
    });
    // The ground truth itself: ann, bob (20 min) and eve (12); not cat (5), dan (0.5), fay (0),
    // nor gus, whose 3 hours are older than the window.
    expect(u.usedUsers).toBe(3);

    const c = expected(["cad24", "cad25"], 30, 1);
    expect(c.peak.users).toBe(3);
    expect(row(concurrent)).toMatchObject({
      consumed: c.peak.users,
      peakAt: new Date(c.peak.at!).toISOString(),
      shortfall: 1,
      shortfallCost: 900,
    });
    expect(Date.parse(row(concurrent).computedAt as string)).toBeGreaterThanOrEqual(NOW);
  });
});

function desktop(program: string): InstalledProduct {
  return {
    name: program,
    version: "",
    publisher: "",
    source: "desktop",
    installedAt: null,
    files: [{ path: `/usr/bin/${program}`, sha256: null }],
  };
}
