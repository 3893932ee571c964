/**
 * The reports (`GET /v1/reports/<name>` and `meter report`) over known
 * summary rows written straight into a real site's libSQL tables: rules of
 * this site and of a parent, clients with awkward host names, monthly rows
 * and totals of the last months, hours with tied peaks, local-hour counts
 * inside and outside the time-of-day window, and sessions waiting to be
 * summarised.
 *
 * Proves: every report's figures equal the ones worked out by hand here
 * (run time in hours to two decimals, instants in ISO, the earliest instant
 * on tied peaks, zero rows for months with no data, averages over every
 * date of the window), in JSON and identically in CSV (with `?format=csv`
 * or `Accept: text/csv`), with the time of the freshest data in `dataAsOf`
 * and `X-Data-As-Of`; bad parameters (unknown rule, malformed month or
 * date, a range beyond summary retention, an unknown parameter) get a 400
 * naming the parameter; viewers may read, no token gets 401; the OpenAPI
 * paths describe every report; and `meter report` prints the same.
 */
import { afterAll, beforeAll, describe, expect, test, vi } from "vitest";
import { summaryStateStatements } from "../site/summaries/summary_state.ts";
import { reportsOpenApiPaths } from "../site/reports/reports_openapi.ts";
import { csvCell, parseCsv } from "./helpers/csv_parse.ts";
import { type ReportSite, startReportSite } from "./helpers/report_site.ts";
import {
  insertClients,
  insertHourlyUsage,
  insertLocalHourUsers,
  insertMonthlyTotals,
  insertMonthlyUsage,
  insertPending,
  insertRules,
  type LocalHourRow,
} from "./helpers/summary_rows.ts";

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const MAIN = new URL("../main.ts", import.meta.url).pathname;

// Calendar arithmetic of the test's own, in UTC like the summaries.
const ymd = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const iso = (ms: number) => new Date(ms).toISOString();
const startOf = (month: string) => Date.parse(`${month}-01T00:00:00Z`);
const isoWeekday = (date: string) => (new Date(`${date}T00:00:00Z`).getUTCDay() + 6) % 7 + 1;

/**
 * Reports move with the clock, and the site here runs in this process: its
 * clock (`Date`, nothing else) starts at noon UTC of a fixed day and runs on
 * from there, so neither the time of day nor the date the tests run on
 * changes a figure, and every expectation is worked out from that instant.
 */
const FIXED_NOW = Date.UTC(2026, 4, 20, 12, 0, 0);

const COLUMNS: Record<string, string[]> = {
  rules: [
    "id",
    "name",
    "siteCode",
    "enabled",
    "applyToChildSites",
    "origin",
    "fileName",
    "originalFileName",
    "sha256",
    "version",
    "language",
  ],
  "computers-ran": ["clientId", "hostName", "runs", "runHours", "lastUse"],
  "users-ran": ["user", "computers", "runs", "runHours", "lastUse"],
  "total-usage": ["ruleId", "ruleName", "users", "computers", "runs", "runHours"],
  "total-usage-trend": ["month", "users", "computers", "runs", "runHours"],
  "concurrent-usage": [
    "ruleId",
    "ruleName",
    "peakUsers",
    "peakUsersAt",
    "peakSessions",
    "peakSessionsAt",
    "sites",
    "sitesPeakUsersSum",
    "sitesPeakSessionsSum",
  ],
  "concurrent-trend": [
    "month",
    "peakUsers",
    "peakUsersAt",
    "peakSessions",
    "peakSessionsAt",
    "sites",
    "sitesPeakUsersSum",
    "sitesPeakSessionsSum",
  ],
  "time-of-day": ["weekday", "hour", "averageUsers"],
  "remote-usage": [
    "ruleId",
    "ruleName",
    "remoteUsers",
    "remoteComputers",
    "remoteRuns",
    "remoteHours",
  ],
  "remote-usage-trend": ["month", "remoteUsers", "remoteComputers", "remoteRuns", "remoteHours"],
  unused: ["clientId", "hostName", "lastUse"],
  "install-base": ["ruleId", "ruleName", "enabled", "origin", "installed", "used", "notUsed"],
  "installed-not-run": ["clientId", "hostName", "lastUse"],
  software: [
    "clientId",
    "hostName",
    "product",
    "version",
    "publisher",
    "source",
    "installedAt",
    "executables",
  ],
  "licence-position": [
    "licenceId",
    "name",
    "model",
    "siteCode",
    "coversSite",
    "inContract",
    "owned",
    "consumed",
    "installed",
    "used",
    "reclaimable",
    "surplus",
    "shortfall",
    "percent",
    "unitCost",
    "costPeriod",
    "currency",
    "shortfallCost",
    "surplusCost",
    "peakAt",
    "windowFrom",
    "computedAt",
    "sites",
  ],
  "reclaim-candidates": [
    "clientId",
    "hostName",
    "user",
    "installedAt",
    "lastUse",
    "windowMinutes",
    "saving",
    "currency",
  ],
  "licence-trend": ["month", "owned", "consumed", "shortfall"],
  "summarization-progress": [
    "ruleId",
    "ruleName",
    "waitingSessions",
    "oldestWaitingStart",
    "completeUntil",
  ],
};

type Row = Record<string, unknown>;

/** A site with none below: the sums of the per-site peaks are its own peaks. */
function withOwnSums(rows: Row[]): Row[] {
  return rows.map((row) => ({
    ...row,
    sites: 1,
    sitesPeakUsersSum: row.peakUsers,
    sitesPeakSessionsSum: row.peakSessions,
  }));
}

/** A JSON value as its CSV cell: text that a spreadsheet would run as a formula gets a `'`. */
const cell = (value: unknown) =>
  typeof value === "string" && /^[=+\-@\t\r]/.test(value) ? `'${value}` : csvCell(value);

interface Answer {
  report: string;
  parameters: Record<string, unknown>;
  dataAsOf: string | null;
  rows: Row[];
  grid?: (number | null)[][];
  datesPerWeekday?: number[];
  summarizedUntil?: string | null;
}

describe("reports", () => {
  let rs: ReportSite;
  let NOW: number;
  let CUR: string;
  let M: string;
  let M2: string;
  let M3: string;
  let T0: number;
  let U: number;
  let TODAY: string;
  const localRows: LocalHourRow[] = [];

  const monthBack = (n: number) => {
    const d = new Date(NOW);
    return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - n, 1)).toISOString().slice(0, 7);
  };

  beforeAll(async () => {
    vi.useFakeTimers({ toFake: ["Date"], now: FIXED_NOW, shouldAdvanceTime: true });
    NOW = Date.now();
    CUR = monthBack(0);
    M = monthBack(1);
    M2 = monthBack(2);
    M3 = monthBack(3);
    T0 = startOf(M);
    U = NOW - 2 * HOUR;
    TODAY = ymd(NOW);
    rs = await startReportSite();
    const db = rs.site.db;
    await insertRules(db, [
      { id: "S01-1", name: "Editor" },
      { id: "S01-2", name: "Compiler", enabled: false, fileName: "cc" },
      { id: "S01-10", name: 'Viewer, "pro"', sha256: "ab".repeat(32), fileName: null },
      {
        id: "P01-3",
        name: "Office",
        applyToChildSites: true,
        origin: "auto",
        language: "de",
      },
    ]);
    await insertClients(db, [
      { id: "c1aaaa", hostName: "alpha" },
      { id: "c2bbbb", hostName: "beta" },
      { id: "c3cccc", hostName: "=gamma" },
    ]);
    await insertMonthlyUsage(db, [
      {
        rule: "S01-1",
        month: M,
        user: "alice",
        client: "c1aaaa",
        runs: 2,
        runMs: 5_400_000,
        lastUse: T0 + 10 * DAY + 3 * HOUR,
      },
      {
        rule: "S01-1",
        month: M,
        user: "bob",
        client: "c1aaaa",
        runs: 1,
        runMs: 1_800_000,
        lastUse: T0 + 12 * DAY,
      },
      {
        rule: "S01-1",
        month: M,
        user: "alice",
        client: "c2bbbb",
        runs: 4,
        runMs: 1_000_000,
        lastUse: T0 + 2 * DAY,
      },
      {
        rule: "S01-1",
        month: M,
        user: "carol",
        client: "c3cccc",
        runs: 1,
        runMs: 12_345,
        lastUse: T0 + HOUR,
      },
      {
        rule: "S01-1",
        month: M,
        user: "dave",
        client: "c4dddd",
        runs: 3,
        runMs: 9_000_000,
        lastUse: T0 + 20 * DAY,
      },
      // last used exactly at `since` of the unused report: not unused
      {
        rule: "S01-1",
        month: M,
        user: "erin",
        client: "c5eeee",
        runs: 1,
        runMs: 0,
        lastUse: T0 + 10 * DAY,
      },
      // other months and rules, which the month reports must leave out
      {
        rule: "S01-1",
        month: CUR,
        user: "alice",
        client: "c1aaaa",
        runs: 100,
        runMs: 1,
        lastUse: startOf(CUR) + HOUR,
      },
      {
        rule: "S01-1",
        month: M2,
        user: "alice",
        client: "c2bbbb",
        runs: 9,
        runMs: 9,
        lastUse: T0 - 5 * DAY,
      },
      {
        rule: "S01-2",
        month: M,
        user: "alice",
        client: "c1aaaa",
        runs: 50,
        runMs: 50,
        lastUse: T0 + DAY,
      },
    ]);
    await insertMonthlyTotals(db, [
      {
        rule: "S01-1",
        month: M,
        users: 5,
        computers: 5,
        runs: 12,
        runMs: 17_612_345,
        remoteUsers: 1,
        remoteComputers: 1,
        remoteRuns: 2,
        remoteRunMs: 900_000,
      },
      { rule: "S01-9", month: M, users: 1, computers: 1, runs: 1, runMs: 3_600_000 },
      {
        rule: "P01-3",
        month: M,
        users: 2,
        computers: 1,
        runs: 5,
        runMs: 7_200_000,
        remoteUsers: 2,
        remoteComputers: 1,
        remoteRuns: 5,
        remoteRunMs: 7_200_000,
      },
      {
        rule: "S01-1",
        month: CUR,
        users: 7,
        computers: 5,
        runs: 30,
        runMs: 36_000_000,
        remoteUsers: 3,
        remoteComputers: 2,
        remoteRuns: 4,
        remoteRunMs: 1_800_000,
      },
      { rule: "S01-1", month: M3, users: 99, computers: 99, runs: 99, runMs: 99 },
    ]);
    await insertHourlyUsage(db, [
      // S01-1 in M: users peak 5 first at +5d 9:15 (tied later at +6d 14:05);
      // sessions peak 7 first at 0:20 (tied later at +6d 14:30)
      {
        rule: "S01-1",
        hour: T0,
        peakUsers: 3,
        peakUsersAt: T0 + 10 * MIN,
        peakSessions: 7,
        peakSessionsAt: T0 + 20 * MIN,
      },
      {
        rule: "S01-1",
        hour: T0 + 5 * DAY + 9 * HOUR,
        peakUsers: 5,
        peakUsersAt: T0 + 5 * DAY + 9 * HOUR + 15 * MIN,
        peakSessions: 6,
        peakSessionsAt: T0 + 5 * DAY + 9 * HOUR + 16 * MIN,
      },
      {
        rule: "S01-1",
        hour: T0 + 6 * DAY + 14 * HOUR,
        peakUsers: 5,
        peakUsersAt: T0 + 6 * DAY + 14 * HOUR + 5 * MIN,
        peakSessions: 7,
        peakSessionsAt: T0 + 6 * DAY + 14 * HOUR + 30 * MIN,
      },
      // the hours just outside M: in M2 and in CUR
      {
        rule: "S01-1",
        hour: T0 - HOUR,
        peakUsers: 9,
        peakUsersAt: T0 - HOUR + 5 * MIN,
        peakSessions: 9,
        peakSessionsAt: T0 - HOUR + 6 * MIN,
      },
      {
        rule: "S01-1",
        hour: startOf(CUR),
        peakUsers: 10,
        peakUsersAt: startOf(CUR) + MIN,
        peakSessions: 11,
        peakSessionsAt: startOf(CUR) + 2 * MIN,
      },
      // an hour that went by with nobody running it
      {
        rule: "S01-1",
        hour: startOf(CUR) + HOUR,
        peakUsers: 0,
        peakUsersAt: null,
        peakSessions: 0,
        peakSessionsAt: null,
      },
      {
        rule: "P01-3",
        hour: T0 + 3 * HOUR,
        peakUsers: 2,
        peakUsersAt: T0 + 3 * HOUR + MIN,
        peakSessions: 2,
        peakSessionsAt: T0 + 3 * HOUR + MIN,
      },
      {
        rule: "S01-9",
        hour: T0 + 3 * DAY,
        peakUsers: 1,
        peakUsersAt: T0 + 3 * DAY + MIN,
        peakSessions: 1,
        peakSessionsAt: T0 + 3 * DAY + MIN,
      },
    ]);
    localRows.push(...timeOfDayRows());
    await insertLocalHourUsers(db, localRows);
    await insertPending(db, [
      { rule: "S01-1", client: "c1aaaa", start: NOW - 3 * HOUR },
      { rule: "S01-1", client: "c2bbbb", start: NOW - 2 * DAY },
      { rule: "S01-77", client: "c1aaaa", start: NOW - HOUR },
    ]);
    await db.batch(
      summaryStateStatements(db, {
        summarizedUntil: U,
        runningRefreshedAt: U + 1000,
        lastRunAt: U + 1000,
      }),
      "write",
    );
  });

  afterAll(async () => {
    await rs?.close();
    vi.useRealTimers();
  });

  /** Local-hour counts: two of each weekday in the last 14 days, and some outside. */
  function timeOfDayRows(): LocalHourRow[] {
    const last14 = Array.from({ length: 14 }, (_, i) => ymd(NOW - (13 - i) * DAY));
    const mondays = last14.filter((d) => isoWeekday(d) === 1);
    const sunday = last14.find((d) => isoWeekday(d) === 7)!;
    const row = (date: string, hour: number, users: number, rule = "S01-1") => ({
      rule,
      date,
      hour,
      weekday: isoWeekday(date),
      users,
    });
    return [
      row(mondays[0], 9, 3),
      row(mondays[1], 9, 1),
      row(mondays[0], 10, 1),
      row(sunday, 23, 5),
      row(TODAY, 0, 4),
      row(ymd(NOW - 14 * DAY), 9, 100), // outside 14 days, inside 90
      row(ymd(NOW - 100 * DAY), 12, 7), // outside 90 days
      row(TODAY, 9, 50, "S01-10"),
    ];
  }

  /** The time-of-day grid worked out from the rows written, by brute force. */
  function expectedGrid(days: number): (number | null)[][] {
    const dates = Array.from({ length: days }, (_, i) => ymd(NOW - i * DAY));
    const count = Array(7).fill(0);
    for (const date of dates) count[isoWeekday(date) - 1]++;
    const sums = Array.from({ length: 7 }, () => Array(24).fill(0));
    for (const r of localRows) {
      if (r.rule === "S01-1" && dates.includes(r.date)) sums[r.weekday - 1][r.hour] += r.users;
    }
    return sums.map((hours, w) =>
      hours.map((sum) => count[w] ? Math.round(sum / count[w] * 100) / 100 : null)
    );
  }

  async function get(path: string, headers: Record<string, string> = {}, token = rs.viewer) {
    return await fetch(`${rs.url}${path}`, {
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    });
  }

  const path = (name: string, query: Record<string, string>) =>
    `/v1/reports/${name}?${new URLSearchParams(query)}`;

  async function json(name: string, query: Record<string, string> = {}): Promise<Answer> {
    const response = await get(path(name, query));
    const text = await response.text();
    expect(response.status, text).toBe(200);
    const answer = JSON.parse(text) as Answer;
    expect(answer.report).toBe(name);
    expect(response.headers.get("x-data-as-of")).toBe(answer.dataAsOf);
    return answer;
  }

  /** The CSV of a report equals its JSON rows, cell for cell, both ways of asking. */
  async function expectCsvMatches(name: string, query: Record<string, string>, rows: Row[]) {
    const expected = [COLUMNS[name], ...rows.map((r) => COLUMNS[name].map((c) => cell(r[c])))];
    for (
      const response of [
        await get(path(name, { ...query, format: "csv" })),
        await get(path(name, query), { accept: "text/csv" }),
      ]
    ) {
      const text = await response.text();
      expect(response.status, text).toBe(200);
      expect(response.headers.get("content-type")).toContain("text/csv");
      expect(response.headers.get("x-data-as-of")).toBe(iso(U));
      expect(parseCsv(text)).toEqual(expected);
    }
  }

  /** The report's JSON rows are exactly `rows`, and its CSV says the same. */
  async function expectReport(name: string, query: Record<string, string>, rows: Row[]) {
    const answer = await json(name, query);
    expect(answer.dataAsOf).toBe(iso(U));
    expect(answer.rows).toEqual(rows);
    await expectCsvMatches(name, query, rows);
    return answer;
  }

  const h = (ms: number) => iso(ms);

  test("rules: every rule here, its origin site and whether enabled, read live", async () => {
    const before = Date.now();
    const answer = await json("rules");
    const after = Date.now();
    const asOf = Date.parse(answer.dataAsOf!);
    expect(asOf).toBeGreaterThanOrEqual(before);
    expect(asOf).toBeLessThanOrEqual(after);
    const rule = (fields: Row): Row => ({
      applyToChildSites: false,
      origin: "manual",
      fileName: "prog",
      originalFileName: null,
      sha256: null,
      version: "*",
      language: null,
      enabled: true,
      ...fields,
    });
    const rows = [
      rule({
        id: "P01-3",
        name: "Office",
        siteCode: "P01",
        applyToChildSites: true,
        origin: "auto",
        language: "de",
      }),
      rule({ id: "S01-1", name: "Editor", siteCode: "S01" }),
      rule({ id: "S01-2", name: "Compiler", siteCode: "S01", enabled: false, fileName: "cc" }),
      rule({
        id: "S01-10",
        name: 'Viewer, "pro"',
        siteCode: "S01",
        fileName: null,
        sha256: "ab".repeat(32),
      }),
    ];
    expect(answer.rows).toEqual(
      rows.map((r) => Object.fromEntries(COLUMNS.rules.map((c) => [c, r[c]]))),
    );
    expect(Object.keys(answer.rows[0])).toEqual(COLUMNS.rules);
    const csv = await get(path("rules", { format: "csv" }));
    expect(parseCsv(await csv.text())).toEqual([
      COLUMNS.rules,
      ...rows.map((r) => COLUMNS.rules.map((c) => cell(r[c]))),
    ]);
  });

  test("computers-ran: per computer, summed over its users, by host name", async () => {
    const answer = await expectReport("computers-ran", { rule: "S01-1", month: M }, [
      { clientId: "c4dddd", hostName: "", runs: 3, runHours: 2.5, lastUse: h(T0 + 20 * DAY) },
      { clientId: "c5eeee", hostName: "", runs: 1, runHours: 0, lastUse: h(T0 + 10 * DAY) },
      { clientId: "c3cccc", hostName: "=gamma", runs: 1, runHours: 0, lastUse: h(T0 + HOUR) },
      { clientId: "c1aaaa", hostName: "alpha", runs: 3, runHours: 2, lastUse: h(T0 + 12 * DAY) },
      { clientId: "c2bbbb", hostName: "beta", runs: 4, runHours: 0.28, lastUse: h(T0 + 2 * DAY) },
    ]);
    expect(answer.parameters).toEqual({ rule: "S01-1", ruleName: "Editor", month: M });
    // the CSV as bytes: header, CRLF, a host name that looks like a formula defused
    const csv = await (await get(path("computers-ran", { rule: "S01-1", month: M, format: "csv" })))
      .text();
    expect(csv.split("\r\n").slice(0, 4)).toEqual([
      "clientId,hostName,runs,runHours,lastUse",
      `c4dddd,,3,2.5,${h(T0 + 20 * DAY)}`,
      `c5eeee,,1,0,${h(T0 + 10 * DAY)}`,
      `c3cccc,'=gamma,1,0,${h(T0 + HOUR)}`,
    ]);
  });

  test("users-ran: per user, with the computers they ran it on", async () => {
    await expectReport("users-ran", { rule: "S01-1", month: M }, [
      {
        user: "alice",
        computers: 2,
        runs: 6,
        runHours: 1.78,
        lastUse: h(T0 + 10 * DAY + 3 * HOUR),
      },
      { user: "bob", computers: 1, runs: 1, runHours: 0.5, lastUse: h(T0 + 12 * DAY) },
      { user: "carol", computers: 1, runs: 1, runHours: 0, lastUse: h(T0 + HOUR) },
      { user: "dave", computers: 1, runs: 3, runHours: 2.5, lastUse: h(T0 + 20 * DAY) },
      { user: "erin", computers: 1, runs: 1, runHours: 0, lastUse: h(T0 + 10 * DAY) },
    ]);
    const empty = await json("users-ran", { rule: "S01-10", month: M });
    expect(empty.rows).toEqual([]);
  });

  test("total-usage: every rule, zero when unused, a deleted rule's usage unnamed", async () => {
    const zero = { users: 0, computers: 0, runs: 0, runHours: 0 };
    const answer = await expectReport("total-usage", { month: M }, [
      { ruleId: "P01-3", ruleName: "Office", users: 2, computers: 1, runs: 5, runHours: 2 },
      { ruleId: "S01-1", ruleName: "Editor", users: 5, computers: 5, runs: 12, runHours: 4.89 },
      { ruleId: "S01-2", ruleName: "Compiler", ...zero },
      { ruleId: "S01-9", ruleName: null, users: 1, computers: 1, runs: 1, runHours: 1 },
      { ruleId: "S01-10", ruleName: 'Viewer, "pro"', ...zero },
    ]);
    expect(answer.parameters).toEqual({ month: M });
  });

  test("total-usage-trend: the last N months ending this month, zero rows where none", async () => {
    const answer = await expectReport("total-usage-trend", { rule: "S01-1", months: "3" }, [
      { month: M2, users: 0, computers: 0, runs: 0, runHours: 0 },
      { month: M, users: 5, computers: 5, runs: 12, runHours: 4.89 },
      { month: CUR, users: 7, computers: 5, runs: 30, runHours: 10 },
    ]);
    expect(answer.parameters).toEqual({
      rule: "S01-1",
      ruleName: "Editor",
      months: 3,
      firstMonth: M2,
      lastMonth: CUR,
    });
    const byDefault = await json("total-usage-trend", { rule: "S01-1" });
    expect(byDefault.parameters.months).toBe(12);
    expect(byDefault.rows.map((r) => r.month)).toEqual(
      Array.from({ length: 12 }, (_, i) => monthBack(11 - i)),
    );
    expect(byDefault.rows.filter((r) => r.runs !== 0).map((r) => [r.month, r.runs])).toEqual([
      [M3, 99],
      [M, 12],
      [CUR, 30],
    ]);
  });

  test("concurrent-usage: the exact monthly peak and its first instant, per rule", async () => {
    const none = { peakUsers: 0, peakUsersAt: null, peakSessions: 0, peakSessionsAt: null };
    await expectReport(
      "concurrent-usage",
      { month: M },
      withOwnSums([
        {
          ruleId: "P01-3",
          ruleName: "Office",
          peakUsers: 2,
          peakUsersAt: h(T0 + 3 * HOUR + MIN),
          peakSessions: 2,
          peakSessionsAt: h(T0 + 3 * HOUR + MIN),
        },
        {
          ruleId: "S01-1",
          ruleName: "Editor",
          peakUsers: 5,
          peakUsersAt: h(T0 + 5 * DAY + 9 * HOUR + 15 * MIN),
          peakSessions: 7,
          peakSessionsAt: h(T0 + 20 * MIN),
        },
        { ruleId: "S01-2", ruleName: "Compiler", ...none },
        {
          ruleId: "S01-9",
          ruleName: null,
          peakUsers: 1,
          peakUsersAt: h(T0 + 3 * DAY + MIN),
          peakSessions: 1,
          peakSessionsAt: h(T0 + 3 * DAY + MIN),
        },
        { ruleId: "S01-10", ruleName: 'Viewer, "pro"', ...none },
      ]),
    );
  });

  test("concurrent-trend: the peak of each month, zero where nobody ran it", async () => {
    const answer = await expectReport(
      "concurrent-trend",
      { rule: "S01-1", months: "4" },
      withOwnSums([
        { month: M3, peakUsers: 0, peakUsersAt: null, peakSessions: 0, peakSessionsAt: null },
        {
          month: M2,
          peakUsers: 9,
          peakUsersAt: h(T0 - HOUR + 5 * MIN),
          peakSessions: 9,
          peakSessionsAt: h(T0 - HOUR + 6 * MIN),
        },
        {
          month: M,
          peakUsers: 5,
          peakUsersAt: h(T0 + 5 * DAY + 9 * HOUR + 15 * MIN),
          peakSessions: 7,
          peakSessionsAt: h(T0 + 20 * MIN),
        },
        {
          month: CUR,
          peakUsers: 10,
          peakUsersAt: h(startOf(CUR) + MIN),
          peakSessions: 11,
          peakSessionsAt: h(startOf(CUR) + 2 * MIN),
        },
      ]),
    );
    expect(answer.parameters).toMatchObject({ months: 4, firstMonth: M3, lastMonth: CUR });
    expect((await json("concurrent-trend", { rule: "S01-1" })).rows).toHaveLength(12);
  });

  test("time-of-day: average distinct users per weekday and local hour", async () => {
    const answer = await json("time-of-day", { rule: "S01-1", days: "14" });
    expect(answer.dataAsOf).toBe(iso(U));
    const grid = expectedGrid(14);
    // worked out by hand: two of each weekday in 14 days
    expect(grid[0][9]).toBe(2);
    expect(grid[0][10]).toBe(0.5);
    expect(grid[6][23]).toBe(2.5);
    expect(grid[isoWeekday(TODAY) - 1][0]).toBe(2);
    expect(grid.flat().reduce((a, b) => a! + b!, 0)).toBe(7);
    expect(answer.grid).toEqual(grid);
    expect(answer.datesPerWeekday).toEqual([2, 2, 2, 2, 2, 2, 2]);
    const rows = grid.flatMap((hours, w) =>
      hours.map((averageUsers, hour) => ({ weekday: w + 1, hour, averageUsers }))
    );
    expect(answer.rows).toEqual(rows);
    expect(answer.parameters).toEqual({
      rule: "S01-1",
      ruleName: "Editor",
      days: 14,
      firstDate: ymd(NOW - 13 * DAY),
      lastDate: TODAY,
    });
    await expectCsvMatches("time-of-day", { rule: "S01-1", days: "14" }, rows);
  });

  test("time-of-day: 90 days by default, and no average for weekdays outside a short window", async () => {
    const byDefault = await json("time-of-day", { rule: "S01-1" });
    expect(byDefault.parameters.days).toBe(90);
    expect(byDefault.grid).toEqual(expectedGrid(90));
    const monday = isoWeekday(ymd(NOW - 14 * DAY)) - 1;
    expect(byDefault.grid![monday][9]).toBeGreaterThan(7); // the row 14 days ago counts now
    const short = await json("time-of-day", { rule: "S01-1", days: "3" });
    expect(short.grid).toEqual(expectedGrid(3));
    expect(short.grid!.filter((hours) => hours[0] === null)).toHaveLength(4);
  });

  test("remote-usage and its trend: usage from remote login sessions", async () => {
    const zero = { remoteUsers: 0, remoteComputers: 0, remoteRuns: 0, remoteHours: 0 };
    await expectReport("remote-usage", { month: M }, [
      {
        ruleId: "P01-3",
        ruleName: "Office",
        remoteUsers: 2,
        remoteComputers: 1,
        remoteRuns: 5,
        remoteHours: 2,
      },
      {
        ruleId: "S01-1",
        ruleName: "Editor",
        remoteUsers: 1,
        remoteComputers: 1,
        remoteRuns: 2,
        remoteHours: 0.25,
      },
      { ruleId: "S01-2", ruleName: "Compiler", ...zero },
      { ruleId: "S01-9", ruleName: null, ...zero },
      { ruleId: "S01-10", ruleName: 'Viewer, "pro"', ...zero },
    ]);
    await expectReport("remote-usage-trend", { rule: "S01-1", months: "2" }, [
      { month: M, remoteUsers: 1, remoteComputers: 1, remoteRuns: 2, remoteHours: 0.25 },
      { month: CUR, remoteUsers: 3, remoteComputers: 2, remoteRuns: 4, remoteHours: 0.5 },
    ]);
  });

  test("unused: computers whose last use is before `since`, oldest first", async () => {
    const since = ymd(T0 + 10 * DAY);
    const answer = await expectReport("unused", { rule: "S01-1", since }, [
      { clientId: "c3cccc", hostName: "=gamma", lastUse: h(T0 + HOUR) },
      { clientId: "c2bbbb", hostName: "beta", lastUse: h(T0 + 2 * DAY) },
    ]);
    expect(answer.parameters).toEqual({
      rule: "S01-1",
      ruleName: "Editor",
      since: h(T0 + 10 * DAY),
    });
    // a minute later, the computer last used exactly at the old `since` is unused too
    const later = await json("unused", { rule: "S01-1", since: h(T0 + 10 * DAY + MIN) });
    expect(later.rows.map((r) => r.clientId)).toEqual(["c3cccc", "c2bbbb", "c5eeee"]);
  });

  test("summarization-progress: waiting sessions and how far summaries are complete", async () => {
    const before = Date.now();
    const answer = await json("summarization-progress");
    expect(Date.parse(answer.dataAsOf!)).toBeGreaterThanOrEqual(before);
    expect(answer.summarizedUntil).toBe(iso(U));
    const idle = { waitingSessions: 0, oldestWaitingStart: null, completeUntil: iso(U) };
    const rows = [
      { ruleId: "P01-3", ruleName: "Office", ...idle },
      {
        ruleId: "S01-1",
        ruleName: "Editor",
        waitingSessions: 2,
        oldestWaitingStart: iso(NOW - 2 * DAY),
        completeUntil: iso(NOW - 2 * DAY),
      },
      { ruleId: "S01-2", ruleName: "Compiler", ...idle },
      { ruleId: "S01-10", ruleName: 'Viewer, "pro"', ...idle },
      // waits with a start after summarizedUntil: complete up to summarizedUntil
      {
        ruleId: "S01-77",
        ruleName: null,
        waitingSessions: 1,
        oldestWaitingStart: iso(NOW - HOUR),
        completeUntil: iso(U),
      },
    ];
    expect(answer.rows).toEqual(rows);
    const csv = await get(path("summarization-progress", { format: "csv" }));
    expect(parseCsv(await csv.text())).toEqual([
      COLUMNS["summarization-progress"],
      ...rows.map((r) => COLUMNS["summarization-progress"].map((c) => cell((r as Row)[c]))),
    ]);
  });

  test("a site that has summarised nothing says so: no dataAsOf", async () => {
    const fresh = await startReportSite();
    try {
      const response = await fetch(`${fresh.url}/v1/reports/total-usage?month=${M}`, {
        headers: { authorization: `Bearer ${fresh.viewer}` },
      });
      const answer = await response.json();
      expect(response.status).toBe(200);
      expect(answer).toEqual({
        report: "total-usage",
        parameters: { month: M },
        dataAsOf: null,
        rows: [],
      });
      expect(response.headers.get("x-data-as-of")).toBeNull();
    } finally {
      await fresh.close();
    }
  });

  test("the list of reports", async () => {
    const response = await get("/v1/reports");
    expect(response.status).toBe(200);
    const { reports } = await response.json();
    expect(reports.map((r: { name: string }) => r.name)).toEqual(Object.keys(COLUMNS));
    expect(reports.find((r: { name: string }) => r.name === "unused").parameters).toEqual([
      "rule",
      "since",
      "site",
    ]);
  });

  describe("refused parameters name the parameter", () => {
    const cases: [string, Record<string, string>, string, RegExp][] = [
      ["computers-ran", { rule: "S01-99", month: "" }, "rule", /S01-99/],
      ["users-ran", { rule: "bogus", month: "" }, "rule", /S01-7/],
      ["computers-ran", { month: "" }, "rule", /rule/],
      ["computers-ran", { rule: "S01-1" }, "month", /month/],
      ["total-usage", { month: "2026-13" }, "month", /YYYY-MM/],
      ["total-usage", { month: "2026-5" }, "month", /YYYY-MM/],
      ["total-usage", { month: "May" }, "month", /YYYY-MM/],
      ["total-usage-trend", { rule: "S01-1", months: "0" }, "months", /whole number/],
      ["concurrent-trend", { rule: "S01-1", months: "1.5" }, "months", /whole number/],
      ["time-of-day", { rule: "S01-1", days: "-3" }, "days", /whole number/],
      ["unused", { rule: "S01-1", since: "2026-02-30" }, "since", /not a real date/],
      ["unused", { rule: "S01-1", since: "yesterday" }, "since", /ISO date/],
      ["unused", { rule: "S01-1", since: "2026-05-01T08:00:00" }, "since", /offset/],
      ["total-usage", { month: "", colour: "red" }, "colour", /Unrecognized/],
      ["rules", { rule: "S01-1" }, "rule", /Unrecognized/],
      ["total-usage", { month: "", format: "xml" }, "format", /json|csv/],
    ];
    test.each(cases)("%s %j → 400 naming %s", async (name, query, parameter, detail) => {
      const filled = Object.fromEntries(
        Object.entries(query).map(([k, v]) => [k, k === "month" && v === "" ? M : v]),
      );
      const response = await get(path(name, filled));
      const body = await response.json();
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(body.error.message).toContain(parameter);
      expect(body.error.message).toMatch(detail);
    });

    test("ranges beyond summary retention (400 days) name the parameter and the limit", async () => {
      const old = monthBack(14); // starts more than 400 days ago
      const cases: [string, Record<string, string>, string][] = [
        ["total-usage", { month: old }, "month"],
        ["computers-ran", { rule: "S01-1", month: old }, "month"],
        ["total-usage-trend", { rule: "S01-1", months: "15" }, "months"],
        ["remote-usage-trend", { rule: "S01-1", months: "1000" }, "months"],
        ["time-of-day", { rule: "S01-1", days: "401" }, "days"],
        ["unused", { rule: "S01-1", since: ymd(NOW - 401 * DAY) }, "since"],
      ];
      for (const [name, query, parameter] of cases) {
        const response = await get(path(name, query));
        const body = await response.json();
        expect(response.status, `${name} ${JSON.stringify(body)}`).toBe(400);
        expect(body.error.message).toContain(`${parameter}:`);
        expect(body.error.message).toContain("400 days");
      }
      expect((await get(path("time-of-day", { rule: "S01-1", days: "400" }))).status).toBe(200);
      expect((await get(path("total-usage", { month: monthBack(12) }))).status).toBe(200);
    });

    test("with a shorter retention, default ranges shrink to fit and longer ones are refused", async () => {
      const settings = rs.site.settings;
      rs.site.settings = { ...settings, summaryRetentionDays: 20 };
      try {
        const days = await json("time-of-day", { rule: "S01-1" });
        expect(days.parameters.days).toBe(20);
        expect(days.grid).toEqual(expectedGrid(20));
        const months = await json("concurrent-trend", { rule: "S01-1" });
        expect(months.rows.map((r) => r.month)).toEqual([CUR]);
        const refused = await get(path("concurrent-trend", { rule: "S01-1", months: "2" }));
        expect(refused.status).toBe(400);
        expect((await refused.json()).error.message).toMatch(/months: .*20 days/);
        expect((await get(path("total-usage", { month: M2 }))).status).toBe(400);
      } finally {
        rs.site.settings = settings;
      }
    });
  });

  test("a viewer token reads reports; no token gets 401; an enrol token 403", async () => {
    expect((await get(path("total-usage", { month: M }), {}, rs.viewer)).status).toBe(200);
    expect((await get(path("total-usage", { month: M }), {}, rs.admin)).status).toBe(200);
    const none = await get(path("total-usage", { month: M }), {}, "");
    expect(none.status).toBe(401);
    expect((await none.json()).error.code).toBe("unauthenticated");
    expect((await get(path("unused", { rule: "S01-1", since: TODAY }), {}, "mtr_nope")).status)
      .toBe(401);
    expect((await get("/v1/reports", {}, "")).status).toBe(401);
    expect((await get(path("rules", {}), {}, rs.enroll)).status).toBe(403);
    expect((await get("/v1/reports/no-such-report")).status).toBe(404);
  });

  test("the OpenAPI paths describe every report, its parameters and CSV", () => {
    const paths = reportsOpenApiPaths() as Record<string, { get: Record<string, unknown> }>;
    expect(Object.keys(paths)).toEqual([
      "/v1/reports",
      ...Object.keys(COLUMNS).map((name) => `/v1/reports/${name}`),
    ]);
    const unused = paths["/v1/reports/unused"].get as {
      parameters: { name: string; required: boolean }[];
      responses: Record<string, { content?: Record<string, { schema: Record<string, unknown> }> }>;
    };
    expect(unused.parameters.map((p) => [p.name, p.required])).toEqual([
      ["rule", true],
      ["since", true],
      ["site", false],
      ["format", false],
    ]);
    const ok = unused.responses["200"].content!;
    expect(Object.keys(ok)).toEqual(["application/json", "text/csv"]);
    const rowSchema = (ok["application/json"].schema.properties as Record<string, never>).rows;
    expect(Object.keys((rowSchema as { items: { properties: object } }).items.properties))
      .toEqual(COLUMNS.unused);
    const trend = paths["/v1/reports/total-usage-trend"].get as {
      parameters: { name: string; required: boolean }[];
    };
    expect(trend.parameters.map((p) => [p.name, p.required])).toEqual([
      ["rule", true],
      ["months", false],
      ["site", false],
      ["format", false],
    ]);
    expect(Object.keys(unused.responses)).toEqual(["200", "400", "401", "403"]);
  });

  describe("meter report", () => {
    async function meter(args: string[], permissions = ["-A"]) {
      const output = await new Deno.Command(Deno.execPath(), {
        args: ["run", ...permissions, MAIN, "report", ...args],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
      return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
    }
    const connect = () => ["--site", rs.url, "--token", rs.viewer];

    test("--help lists every report and its parameters, with no permissions", async () => {
      const { code, stdout, stderr } = await meter(["--help"], []);
      expect(stderr).toBe("");
      expect(code).toBe(0);
      expect(stdout).toContain("Usage: meter report <name>");
      for (const name of Object.keys(COLUMNS)) {
        expect(stdout).toMatch(new RegExp(`^  ${name}\\s`, "m"));
      }
      expect(stdout).toContain("--rule ID --since TIME");
      expect(stdout).toContain("--rule ID [--months N]");
    });

    test("prints the same CSV and JSON as the API", async () => {
      const query = { rule: "S01-1", month: M };
      const csv = await meter([
        "computers-ran",
        "--rule",
        "S01-1",
        "--month",
        M,
        ...connect(),
        "--format",
        "csv",
      ]);
      expect(csv.stderr).toBe("");
      expect(csv.code).toBe(0);
      const api = await (await get(path("computers-ran", { ...query, format: "csv" }))).text();
      expect(csv.stdout).toBe(api);
      const json = await meter(["total-usage", "--month", M, ...connect(), "--format", "json"]);
      expect(json.code).toBe(0);
      expect(JSON.parse(json.stdout)).toEqual(
        await (await get(path("total-usage", { month: M }))).json(),
      );
    });

    test("the time-of-day table is the 7 × 24 grid", async () => {
      const { code, stdout } = await meter([
        "time-of-day",
        "--rule",
        "S01-1",
        "--days",
        "14",
        ...connect(),
      ]);
      expect(code).toBe(0);
      const lines = stdout.trim().split("\n");
      const header = lines.findIndex((l) => l.startsWith("weekday"));
      expect(lines[header].split(/\s+/)).toEqual([
        "weekday",
        ...Array.from({ length: 24 }, (_, i) => String(i)),
      ]);
      const grid = expectedGrid(14);
      const days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
      for (const [w, name] of days.entries()) {
        expect(lines[header + 1 + w].split(/\s+/)).toEqual([name, ...grid[w].map(String)]);
      }
      expect(lines.at(-1)).toBe(`data as of ${iso(U)}`);
    });

    test("the table of a report lists its rows", async () => {
      const { code, stdout } = await meter([
        "unused",
        "--rule",
        "S01-1",
        "--since",
        ymd(T0 + 10 * DAY),
        ...connect(),
      ]);
      expect(code).toBe(0);
      const lines = stdout.trim().split("\n");
      expect(lines[1].split(/\s+/)).toEqual(["clientId", "hostName", "lastUse"]);
      expect(lines[2].split(/\s+/)).toEqual(["c3cccc", "=gamma", h(T0 + HOUR)]);
      expect(lines[3].split(/\s+/)).toEqual(["c2bbbb", "beta", h(T0 + 2 * DAY)]);
    });

    test("usage errors exit 2 naming the option; the site's refusals exit 1", async () => {
      const missing = await meter(["computers-ran", "--rule", "S01-1", ...connect()]);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toContain("--month");
      const extra = await meter(["rules", "--month", M, ...connect()]);
      expect(extra.code).toBe(2);
      expect(extra.stderr).toContain("rules takes no --month");
      const unknown = await meter(["frobs", ...connect()]);
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toContain("no report 'frobs'");
      const refused = await meter(["total-usage", "--month", "2026-13", ...connect()]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain("HTTP 400");
      expect(refused.stderr).toContain("month");
    });
  });
});
