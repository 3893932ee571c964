/**
 * End to end with real processes: a site and two agents on this machine,
 * one started with `TZ=Pacific/Kiritimati` (UTC+14) and one with
 * `TZ=Pacific/Pago_Pago` (UTC−11), both seeing one run of a real metered
 * program. Their clocks are 25 hours apart, so at any instant at least one
 * of them is on another date than UTC (Kiritimati from 10:00 UTC, Pago Pago
 * until 11:00 UTC). The agents report their zones in their facts; the
 * site's `time-of-day` for the last day, asked over HTTP right after the
 * run, shows the run in each computer's own local date and hour, worked
 * out here with `Intl` from the sessions the site recorded.
 *
 * Real processes cannot have their clocks driven: the site-level test
 * (`site_time_of_day_zones.test.ts`) asks at every UTC hour of a day.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { copySleep, runProgram, uniqueName } from "./helpers/metered_program.ts";
import {
  type MeterProcess,
  type SiteHandle,
  startAgent,
  startSite,
} from "./helpers/meter_process.ts";
import { addRule, api, makeToken, sessions } from "./helpers/site_api.ts";
import { sleep, waitFor } from "./helpers/wait_for.ts";
import { wallClock } from "./helpers/wall_clock.ts";

const ZONES = ["Pacific/Kiritimati", "Pacific/Pago_Pago"];
const HOUR = 3_600_000;

/** Local midnights of these zones fall on UTC hours: keep run and report within one. */
async function clearOfUtcHour(margin = 120_000): Promise<void> {
  const left = HOUR - Date.now() % HOUR;
  if (left < margin) await sleep(left + 2_000);
}

describe("time-of-day with agents in zones far ahead of and behind UTC", () => {
  let dir: string;
  let site: SiteHandle;
  let admin: string;
  let ruleId: string;
  const agents: MeterProcess[] = [];

  beforeAll(async () => {
    dir = await Deno.makeTempDir({ prefix: "meter-tod-zones-" });
    site = await startSite(dir);
    admin = await makeToken(site.db, "admin");
    const name = uniqueName("mtest-tod");
    const program = await copySleep(dir, name);
    ruleId = (await addRule(site.url, admin, { name: "Zoned", fileName: name })).id;
    for (const zone of ZONES) {
      agents.push(startAgent(site.url, {
        db: join(dir, `agent-${zone.replace("/", "-")}.db`),
        enrollToken: await makeToken(site.db, "enroll"),
        env: { TZ: zone },
      }));
    }
    for (const agent of agents) {
      await waitFor(
        `the rule at the agent\n${agent.tail()}`,
        () => agent.logged("rules loaded").some((e) => e.rules === 1),
      );
    }
    await clearOfUtcHour();
    await runProgram(program, 1.5).ended;
  });

  afterAll(async () => {
    for (const agent of agents) await agent.stop();
    await site?.process.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  });

  test("each agent's run is in its own local date and hour", async () => {
    const zoneOf = await waitFor("both agents' facts", async () => {
      const response = await api(site.url, admin, "GET", "/v1/clients");
      const { clients } = await response.json() as {
        clients: { clientId: string; timeZone: string }[];
      };
      const zones = new Map(clients.map((c) => [c.clientId, c.timeZone]));
      return [...zones.values()].sort().join() === ZONES.join() ? zones : undefined;
    });
    const ran = await waitFor("one ended session from each agent", async () => {
      const found = await sessions(site.url, admin, { rule: ruleId });
      return found.length === 2 && found.every((s) => s.end) ? found : undefined;
    });
    const summarised = await api(site.url, admin, "POST", "/v1/summaries/run");
    expect(summarised.status).toBe(200);
    await summarised.body?.cancel();
    const now = Date.now();
    const response = await api(
      site.url,
      admin,
      "GET",
      `/v1/reports/time-of-day?rule=${ruleId}&days=1`,
    );
    expect(response.status).toBe(200);
    const { grid } = await response.json() as { grid: (number | null)[][] };

    // By brute force: with one day, each zone's window is its date now.
    const expected: (number | null)[][] = Array.from({ length: 7 }, () => Array(24).fill(null));
    for (const zone of ZONES) {
      const today = wallClock(zone)(now);
      expected[today.weekday - 1].fill(0);
    }
    for (const s of ran) {
      const zone = zoneOf.get(s.clientId)!;
      const today = wallClock(zone)(now).date;
      const hours = new Set<string>();
      for (const at of [Date.parse(s.start), Date.parse(s.end!) - 1]) {
        const local = wallClock(zone)(at);
        if (local.date === today) hours.add(`${local.weekday}|${local.hour}`);
      }
      for (const cell of hours) {
        const [weekday, hour] = cell.split("|").map(Number);
        expected[weekday - 1][hour]! += 1; // one user per zone
      }
    }
    expect(expected.flat().filter((n) => n !== null && n > 0).length).toBeGreaterThanOrEqual(2);
    expect(grid).toEqual(expected);
  });
});
