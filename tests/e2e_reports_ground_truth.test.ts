/**
 * Every report against a planned workload: real metered processes started
 * and stopped at planned instants by three real users (`useradd`), on a
 * real site and agent, overlapping so that the true figures are known:
 * five runs, three users, a peak of four concurrent sessions and three
 * concurrent users (one user has two windows open), one remote run. Counts
 * must be exact; times within the agent's poll interval.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { copySleep, runProgram, tempDir, uniqueName } from "./helpers/metered_program.ts";
import { type MeteredSite, startSiteWithAgent } from "./helpers/meter_process.ts";
import { addRule, api, sessions } from "./helpers/site_api.ts";
import { addUser, removeUser, type SystemUser } from "./helpers/system_users.ts";
import { sleep, waitFor } from "./helpers/wait_for.ts";

const POLL_MS = 500;
/** [user index, start second, run seconds, remote] */
const PLAN: [number, number, number, boolean][] = [
  [0, 0, 6, false],
  [0, 8, 4, false],
  [1, 2, 7, true],
  [2, 3, 2, false],
  [2, 3, 4, false],
];
const RUN_SECONDS = PLAN.reduce((n, [, , s]) => n + s, 0);

describe("reports against a planned workload", () => {
  let m: MeteredSite;
  let users: SystemUser[] = [];
  let ruleId: string;
  let startedAt: number;
  let month: string;

  beforeAll(async () => {
    const suffix = crypto.randomUUID().slice(0, 6);
    users = await Promise.all([1, 2, 3].map((i) => addUser(`mtu${i}${suffix}`)));
    m = await startSiteWithAgent({ poll: POLL_MS / 1000 });
    const dir = await tempDir("meter-truth-");
    await Deno.chmod(dir.dir, 0o755);
    const name = uniqueName("mtest-truth");
    const program = await copySleep(dir.dir, name);
    ruleId = (await addRule(m.site.url, m.admin, { name: "Planned", fileName: name })).id;
    await waitFor(
      "the rule at the agent",
      () => m.agent.logged("rules loaded").some((e) => e.rules === 1),
    );
    startedAt = Date.now() + 500;
    const runs = PLAN.map(async ([user, at, seconds, remote]) => {
      await sleep(startedAt + at * 1000 - Date.now());
      const env = remote ? { SSH_CONNECTION: "10.0.0.9 50000 10.0.0.1 22" } : undefined;
      return await runProgram(program, seconds, { user: users[user], env }).ended;
    });
    await Promise.all(runs);
    month = new Date(startedAt).toISOString().slice(0, 7);
    await waitFor("all runs at the site, ended", async () => {
      const rows = await sessions(m.site.url, m.admin, { rule: ruleId });
      return rows.length === PLAN.length && rows.every((r) => r.end) ? rows : undefined;
    });
    const run = await api(m.site.url, m.admin, "POST", "/v1/summaries/run");
    expect(run.status).toBe(200);
    await dir.remove();
  });

  afterAll(async () => {
    await m?.stop();
    for (const user of users) await removeUser(user.name);
  });

  async function report(name: string, query: Record<string, string> = {}) {
    const response = await api(
      m.site.url,
      m.admin,
      "GET",
      `/v1/reports/${name}?${new URLSearchParams(query)}`,
    );
    expect(response.status, name).toBe(200);
    return await response.json();
  }

  const hours = (seconds: number) => seconds / 3600;
  /** Run time in hours within the poll interval of each start and end (and the rounding). */
  const nearHours = (value: number, seconds: number, runs: number) =>
    expect(Math.abs(value - hours(seconds))).toBeLessThanOrEqual(
      hours(runs * 2 * POLL_MS / 1000) + 0.005,
    );

  test("computers-ran and users-ran", async () => {
    const computers = await report("computers-ran", { rule: ruleId, month });
    expect(computers.rows).toHaveLength(1);
    expect(computers.rows[0].runs).toBe(5);
    nearHours(computers.rows[0].runHours, RUN_SECONDS, 5);
    const byUser = Object.fromEntries(
      (await report("users-ran", { rule: ruleId, month })).rows.map((
        r: { user: string },
      ) => [r.user, r]),
    );
    expect(Object.keys(byUser).sort()).toEqual(users.map((u) => u.name).sort());
    expect(users.map((u) => byUser[u.name].runs)).toEqual([2, 1, 2]);
    expect(users.map((u) => byUser[u.name].computers)).toEqual([1, 1, 1]);
  });

  test("total-usage and its trend", async () => {
    const total = (await report("total-usage", { month })).rows.find((r: { ruleId: string }) =>
      r.ruleId === ruleId
    );
    expect(total).toMatchObject({ users: 3, computers: 1, runs: 5 });
    nearHours(total.runHours, RUN_SECONDS, 5);
    const trend = await report("total-usage-trend", { rule: ruleId, months: "2" });
    expect(trend.rows.at(-1)).toMatchObject({ month, users: 3, computers: 1, runs: 5 });
  });

  test("concurrent-usage and its trend: the exact peaks", async () => {
    const row = (await report("concurrent-usage", { month })).rows.find((r: { ruleId: string }) =>
      r.ruleId === ruleId
    );
    expect(row).toMatchObject({ peakUsers: 3, peakSessions: 4 });
    // Three users run from the third second (the third user's windows open together).
    expect(Math.abs(Date.parse(row.peakUsersAt) - (startedAt + 3000))).toBeLessThanOrEqual(
      POLL_MS + 500,
    );
    expect((await report("concurrent-trend", { rule: ruleId, months: "1" })).rows.at(-1))
      .toMatchObject({ peakUsers: 3 });
  });

  test("remote-usage and its trend", async () => {
    const row = (await report("remote-usage", { month })).rows.find((r: { ruleId: string }) =>
      r.ruleId === ruleId
    );
    expect(row).toMatchObject({ remoteUsers: 1, remoteComputers: 1, remoteRuns: 1 });
    expect((await report("remote-usage-trend", { rule: ruleId, months: "1" })).rows.at(-1))
      .toMatchObject({ remoteRuns: 1 });
  });

  test("time-of-day: three users in this hour of this weekday", async () => {
    const tod = await report("time-of-day", { rule: ruleId });
    const local = new Date(startedAt);
    const weekday = (local.getDay() + 6) % 7 + 1;
    const cell = tod.rows.find((r: { weekday: number; hour: number }) =>
      r.weekday === weekday && r.hour === local.getHours()
    );
    const dates = tod.datesPerWeekday[weekday - 1];
    expect(dates).toBeGreaterThan(0);
    expect(cell.averageUsers).toBeCloseTo(3 / dates, 2);
  });

  test("unused, rules and summarization-progress", async () => {
    const tomorrow = new Date(startedAt + 86_400_000).toISOString().slice(0, 10);
    expect((await report("unused", { rule: ruleId, since: tomorrow })).rows).toHaveLength(1);
    const today = new Date(startedAt).toISOString().slice(0, 10);
    expect((await report("unused", { rule: ruleId, since: today })).rows).toHaveLength(0);
    expect((await report("rules")).rows.map((r: { id: string }) => r.id)).toContain(ruleId);
    const progress = (await report("summarization-progress")).rows.find((r: { ruleId: string }) =>
      r.ruleId === ruleId
    );
    expect(progress.waitingSessions).toBe(0);
  });
});
