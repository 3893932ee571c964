/**
 * End to end with real processes: a site and two agents on this machine,
 * one started with `TZ=Pacific/Kiritimati` (UTC+14) and one with
 * `TZ=Pacific/Pago_Pago` (UTC−11), both seeing one run of a real metered
 * program. Their clocks are 25 hours apart, so at any instant at least one
 * of them is on another date than UTC (Kiritimati from 10:00 UTC, Pago Pago
 * until 11:00 UTC). The agents report their zones in their facts; the
 * site's `time-of-day` for the last two days, asked over HTTP after the
 * run, shows the run in each computer's own local date and hour, worked
 * out here with `Intl` from the sessions the site recorded and the instant
 * the site answered at (its calendars in the answer say which of the two
 * ends of the request it was), so the test holds at any time of day, a
 * local midnight between the run and the report included.
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
import { waitFor } from "./helpers/wait_for.ts";
import { isoWeekday, wallClock } from "./helpers/wall_clock.ts";

const ZONES = ["Pacific/Kiritimati", "Pacific/Pago_Pago"];

/** Days the report covers: two, so the run is inside each window even after a local midnight. */
const DAYS = 2;

/** The date `n` days before the `YYYY-MM-DD` date. */
const daysBefore = (date: string, n: number) =>
  new Date(Date.parse(`${date}T00:00:00Z`) - n * 86_400_000).toISOString().slice(0, 10);

/** Each zone's window at instant `at`: its last DAYS local dates. */
function windowsAt(at: number): Map<string, string[]> {
  return new Map(ZONES.map((zone) => {
    const today = wallClock(zone)(at).date;
    return [zone, Array.from({ length: DAYS }, (_, i) => daysBefore(today, DAYS - 1 - i))];
  }));
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
    // The report's instant is the site's, somewhere between these two: its
    // calendars say which, and the expectation is worked out for that one.
    const before = Date.now();
    const response = await api(
      site.url,
      admin,
      "GET",
      `/v1/reports/time-of-day?rule=${ruleId}&days=${DAYS}`,
    );
    const after = Date.now();
    expect(response.status).toBe(200);
    const { grid, calendars } = await response.json() as {
      grid: (number | null)[][];
      calendars: { firstDate: string; lastDate: string; timeZones: string[] }[];
    };
    const shown = new Map(
      calendars.flatMap((c) => c.timeZones.map((zone) => [zone, [c.firstDate, c.lastDate]])),
    );
    const windows = [windowsAt(before), windowsAt(after)].find((w) =>
      ZONES.every((zone) => {
        const dates = w.get(zone)!;
        return shown.get(zone)?.join() === [dates[0], dates.at(-1)].join();
      })
    );
    expect(windows, `calendars ${JSON.stringify(calendars)} at neither end of the request`)
      .toBeDefined();

    // By brute force: per zone, the users of each weekday and hour over its
    // window's dates, divided by its dates of that weekday, summed over zones.
    const users = new Map(ZONES.map((zone) => [zone, new Map<string, number>()]));
    for (const s of ran) {
      const zone = zoneOf.get(s.clientId)!;
      const cells = new Set<string>();
      for (const at of [Date.parse(s.start), Date.parse(s.end!) - 1]) {
        const local = wallClock(zone)(at);
        if (windows!.get(zone)!.includes(local.date)) cells.add(`${local.weekday}|${local.hour}`);
      }
      for (const cell of cells) users.get(zone)!.set(cell, (users.get(zone)!.get(cell) ?? 0) + 1);
    }
    const expected: (number | null)[][] = Array.from(
      { length: 7 },
      (_, w) =>
        Array.from({ length: 24 }, (_, hour) => {
          let sum: number | null = null;
          for (const zone of ZONES) {
            const dates = windows!.get(zone)!.filter((d) => isoWeekday(d) === w + 1).length;
            if (dates === 0) continue;
            sum = (sum ?? 0) + (users.get(zone)!.get(`${w + 1}|${hour}`) ?? 0) / dates;
          }
          return sum === null ? null : Math.round(sum * 100) / 100;
        }),
    );
    expect(expected.flat().filter((n) => n !== null && n > 0).length).toBeGreaterThanOrEqual(2);
    expect(grid).toEqual(expected);
  });
});
