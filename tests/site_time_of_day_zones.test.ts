/**
 * The time-of-day report for computers far ahead of UTC and far behind it,
 * asked at every UTC hour of a day (the report's clock is driven, not
 * waited for), at a child site and at its parent from the summaries the
 * child sent up.
 *
 * Two real sites in this process on real libSQL files: a top site (TOP) and
 * a child (CHA) registered with it through the real parent link. Fake
 * agents send usage as agents do, through the real sync endpoint, each with
 * its time zone in its facts: at CHA two computers at UTC+14
 * (Pacific/Kiritimati, sharing a user), one at Pacific/Auckland (UTC+13 in
 * its summer) and one at UTC−11 (Pacific/Pago_Pago) whose user also works
 * at UTC+14; at TOP one in America/Los_Angeles and another at UTC−11. The
 * sites summarise with their real summarisers; CHA publishes to TOP.
 *
 * Proves: at each of the 24 instants and for 3, 7 and 10 days, the grid,
 * the divisors and the calendars equal a brute-force expectation worked
 * out here from the sessions alone (every minute of every session placed on
 * its computer's clock with `Intl`): each computer's window is the N local
 * dates ending with its own date at the instant; users are distinct per
 * site, zone, local date and hour; each zone's users are averaged over its
 * own window's dates of the weekday, and the averages added. That holds at
 * CHA, at TOP for everything, and at TOP for CHA's subtree alone.
 */
import * as A from "@automerge/automerge";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ParentLink } from "../site/hierarchy/parent_link.ts";
import { reportSources } from "../site/reports/report_sources.ts";
import { timeOfDayReport } from "../site/reports/time_of_day.ts";
import { createToken } from "../site/access/tokens.ts";
import { encodeFacts, FACTS_KEY } from "../model/client_facts.ts";
import { inventoryDocId, usageDocId } from "../model/doc_id.ts";
import type { UsageSession } from "../model/usage_record.ts";
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
import { SeededRandom } from "../lib/seeded_random.ts";
import { addRule } from "./helpers/site_api.ts";
import { isoWeekday, wallClock } from "./helpers/wall_clock.ts";

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
/** The day whose 24 UTC hours the report is asked at: recent, so within raw retention. */
const D = Math.floor(Date.now() / DAY) * DAY - 3 * DAY;
/** Usage from well before the longest window to well after the latest local date. */
const FROM = D - 12 * DAY;
const TO = D + 2 * DAY;
const DAYS = [3, 7, 10];

type Code = "TOP" | "CHA";

interface Computer {
  site: Code;
  zone: string;
  users: string[];
  agent?: FakeAgent;
  sessions: UsageSession[];
}

const computer = (site: Code, zone: string, users: string[]): Computer => ({
  site,
  zone,
  users,
  sessions: [],
});

const COMPUTERS = [
  computer("CHA", "Pacific/Kiritimati", ["ana", "ben"]),
  computer("CHA", "Pacific/Kiritimati", ["ana"]),
  computer("CHA", "Pacific/Auckland", ["cy"]),
  computer("CHA", "Pacific/Pago_Pago", ["ana", "dee"]),
  computer("TOP", "America/Los_Angeles", ["eve", "fay"]),
  computer("TOP", "Pacific/Pago_Pago", ["gus"]),
];

// Calendar arithmetic of the test's own, on YYYY-MM-DD strings.
const addDays = (date: string, n: number) =>
  new Date(Date.parse(`${date}T00:00:00Z`) + n * DAY).toISOString().slice(0, 10);

/** Sessions every one to five hours, of 1 to 90 whole minutes, by the computer's users. */
function generate(c: Computer, ruleId: string, random: SeededRandom): void {
  const perDay = new Map<string, number>();
  for (
    let at = FROM + random.below(60) * MINUTE;
    at < TO;
    at += (60 + random.below(240)) * MINUTE
  ) {
    const day = new Date(at).toISOString().slice(0, 10);
    const n = (perDay.get(day) ?? 0) + 1;
    perDay.set(day, n);
    c.sessions.push(session({
      id: `${day}/${n}`,
      ruleId,
      user: c.users[random.below(c.users.length)],
      start: at,
      end: at + (1 + random.below(90)) * MINUTE,
    }));
  }
}

/**
 * Who was present, by brute force: `site|zone` → `date|hour` → users, every
 * minute of every session placed on its computer's clock.
 */
function presence(computers: Computer[]): Map<string, Map<string, Set<string>>> {
  const groups = new Map<string, Map<string, Set<string>>>();
  for (const c of computers) {
    const clock = wallClock(c.zone);
    const group = `${c.site}|${c.zone}`;
    if (!groups.has(group)) groups.set(group, new Map());
    const cells = groups.get(group)!;
    for (const s of c.sessions) {
      for (let t = s.start; t < s.end!; t += MINUTE) {
        const { date, hour } = clock(t);
        const key = `${date}|${hour}`;
        cells.set(key, (cells.get(key) ?? new Set()).add(s.user));
      }
    }
  }
  return groups;
}

/** What the report must say at `at` over `days` days, given who was present. */
function expected(cells: ReturnType<typeof presence>, days: number, at: number) {
  const sums = Array.from({ length: 7 }, () => Array<number>(24).fill(0));
  const held = Array<boolean>(7).fill(false);
  const calendars = new Map<string, string[]>();
  for (const [group, users] of cells) {
    const zone = group.split("|")[1];
    const today = wallClock(zone)(at).date;
    calendars.set(today, [...new Set([...calendars.get(today) ?? [], zone])]);
    const dates = Array.from({ length: days }, (_, i) => addDays(today, i - days + 1));
    const count = Array<number>(7).fill(0);
    for (const date of dates) count[isoWeekday(date) - 1]++;
    for (let w = 0; w < 7; w++) {
      if (count[w] === 0) continue;
      held[w] = true;
      for (let hour = 0; hour < 24; hour++) {
        const inWindow = dates.filter((d) => isoWeekday(d) === w + 1);
        const total = inWindow.reduce((n, d) => n + (users.get(`${d}|${hour}`)?.size ?? 0), 0);
        sums[w][hour] += total / count[w];
      }
    }
  }
  const grid = sums.map((hours, w) =>
    hours.map((sum) => held[w] ? Math.round(sum * 100) / 100 : null)
  );
  const shown = [...calendars].sort(([a], [b]) => a.localeCompare(b)).map(([today, zones]) => {
    const dates = Array.from({ length: days }, (_, i) => addDays(today, i - days + 1));
    const datesPerWeekday = Array<number>(7).fill(0);
    for (const date of dates) datesPerWeekday[isoWeekday(date) - 1]++;
    return { firstDate: dates[0], lastDate: today, timeZones: zones.sort(), datesPerWeekday };
  });
  return { grid, calendars: shown };
}

describe("time-of-day in zones far from UTC, at every UTC hour of a day", () => {
  const sites = {} as Record<Code, ReportSite>;
  let ruleId: string;

  beforeAll(async () => {
    sites.TOP = await startReportSite("TOP");
    sites.CHA = await startReportSite("CHA");
    const link = new ParentLink(sites.CHA.site, {
      url: sites.TOP.url,
      token: (await createToken(sites.TOP.site.db, "site")).token,
    });
    ruleId = (await addRule(sites.TOP.url, sites.TOP.admin, {
      name: "Shared",
      fileName: "shared",
      applyToChildSites: true,
    })).id;
    await link.sync(); // CHA registers and takes TOP's rule
    const random = new SeededRandom(15);
    for (const c of COMPUTERS) {
      c.agent = await enrollFakeAgent(sites[c.site].url, sites[c.site].enroll);
      generate(c, ruleId, random);
      expect(await sendBatch(sites[c.site].url, c.agent, usageItems(c))).toEqual({ status: 200 });
    }
    await sites.CHA.site.summarizer.run();
    await sites.TOP.site.summarizer.run();
    await link.sync(); // CHA's summaries up to TOP
  });

  afterAll(async () => {
    for (const code of ["CHA", "TOP"] as Code[]) await sites[code]?.close();
  });

  /** A computer's usage documents, one per UTC day, and its facts with its time zone. */
  function usageItems(c: Computer) {
    const agent = c.agent!;
    const days = Map.groupBy(c.sessions, (s) => s.id.split("/")[0]);
    const items = [...days].map(([day, sessions]) =>
      itemFor(
        usageDocId(agent.clientId, day),
        writeSessions(newRecordDoc(agent.actor), day, sessions),
      )
    );
    const facts = A.change(newRecordDoc(agent.actor), (d) => {
      d[FACTS_KEY] = encodeFacts({
        hostName: agent.hostName,
        osName: "Test",
        osVersion: "1",
        kernel: "6",
        arch: "x86_64",
        timeZone: c.zone,
        agentVersion: "test",
      });
    });
    return [...items, itemFor(inventoryDocId(agent.clientId), facts)];
  }

  /** Asks the report at every UTC hour of day D and compares each answer with the expectation. */
  async function everyHour(at: Code, subtree: Code | undefined, computers: Computer[]) {
    const cells = presence(computers);
    for (let hour = 0; hour < 24; hour++) {
      const now = D + hour * HOUR;
      for (const days of DAYS) {
        const label = `${at}${subtree ? ` site=${subtree}` : ""} ${days} days at ` +
          new Date(now).toISOString();
        const answer = await timeOfDayReport.run(
          reportSources(sites[at].site),
          { rule: ruleId, days, site: subtree },
          now,
        );
        const want = expected(cells, days, now);
        expect(answer.extra!.grid, label).toEqual(want.grid);
        expect(answer.extra!.calendars, label).toEqual(want.calendars);
        expect(answer.extra!.datesPerWeekday, label).toEqual(agreed(want.calendars));
        expect(answer.parameters, label).toMatchObject({
          days,
          firstDate: want.calendars[0].firstDate,
          lastDate: want.calendars.at(-1)!.lastDate,
        });
      }
    }
  }

  test("the usage sent is there to find, on both sides of every window", () => {
    for (const c of COMPUTERS) {
      const clock = wallClock(c.zone);
      const dates = new Set(c.sessions.map((s) => clock(s.start).date));
      // Local dates before the longest window and after the latest local date of day D.
      expect(dates.has(addDays(clock(D).date, -10)), c.zone).toBe(true);
      expect(dates.has(addDays(clock(D + 23 * HOUR).date, 1)), c.zone).toBe(true);
    }
  });

  test("at the child: each computer's own last N local dates", async () => {
    await everyHour("CHA", undefined, COMPUTERS.filter((c) => c.site === "CHA"));
  });

  test("at the parent, for everything: its own computers and the child's summaries", async () => {
    await everyHour("TOP", undefined, COMPUTERS);
  });

  test("at the parent, for the child's subtree alone", async () => {
    await everyHour("TOP", "CHA", COMPUTERS.filter((c) => c.site === "CHA"));
  });

  test("the divisors: calendars that disagree leave no single count", async () => {
    // 10:00 UTC: Kiritimati is on D+1, Pago Pago still on D-1, Los Angeles on D.
    const answer = await timeOfDayReport.run(
      reportSources(sites.TOP.site),
      { rule: ruleId, days: 10, site: undefined },
      D + 10 * HOUR,
    );
    const calendars = answer.extra!.calendars as { lastDate: string }[];
    expect(calendars.map((c) => c.lastDate)).toEqual([-1, 0, 1].map((n) => addDays(iso(D), n)));
    // Ten dates hold the weekdays of their last three dates twice: D-1's in all three
    // windows, those of D-3, D-2, D and D+1 in some only.
    const disagree = [-3, -2, 0, 1].map((n) => isoWeekday(addDays(iso(D), n)));
    const perWeekday = answer.extra!.datesPerWeekday as (number | null)[];
    expect(perWeekday.flatMap((n, w) => n === null ? [w + 1] : []))
      .toEqual(disagree.sort((a, b) => a - b));
    expect(perWeekday[isoWeekday(addDays(iso(D), -1)) - 1]).toBe(2);
  });
});

const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** Per weekday, the calendars' count of its dates where they all agree, else null. */
function agreed(calendars: { datesPerWeekday: number[] }[]): (number | null)[] {
  return Array.from({ length: 7 }, (_, w) => {
    const counts = calendars.map((c) => c.datesPerWeekday[w]);
    return counts.every((n) => n === counts[0]) ? counts[0] : null;
  });
}
