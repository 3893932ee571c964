/**
 * The summaries against an independent brute-force computation: sessions
 * of several computers in three time zones (shared user names, remote runs,
 * runs of zero length, runs across midnight and of more than a day) go
 * through the real sync endpoint; the hourly figures with their exact
 * peaks, the monthly rows and totals and the local-hour user counts must
 * equal the oracle's. A late session changes the summaries of the hours it
 * covers and nothing else; a rebuild from scratch gives the same tables; a
 * session still running counts up to the run and is exact once it ends.
 */
import { hourlyFigures } from "./helpers/summary_tables.ts";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import * as A from "@automerge/automerge";
import { join } from "node:path";
import { encodeFacts, FACTS_KEY } from "../model/client_facts.ts";
import { dayOf, inventoryDocId, usageDocId } from "../model/doc_id.ts";
import type { SyncItem } from "../sync/sync_batch.ts";
import type { UsageSession } from "../model/usage_record.ts";
import {
  enrollFakeAgent,
  type FakeAgent,
  itemFor,
  newRecordDoc,
  type RecordDoc,
  sendBatch,
  session,
  writeSessions,
} from "./helpers/fake_agent.ts";
import { type SiteHandle, startSite } from "./helpers/meter_process.ts";
import { tempDir } from "./helpers/metered_program.ts";
import { SeededRandom } from "../lib/seeded_random.ts";
import { api, makeToken } from "./helpers/site_api.ts";
import { withSiteDb } from "./helpers/site_tables.ts";
import {
  oracleHours,
  oracleLocalHours,
  oracleMonths,
  type OracleSession,
} from "./helpers/summary_oracle.ts";

const MINUTE = 60_000;
const HOUR = 3_600_000;
const ZONES = ["Europe/Paris", "Asia/Kolkata", "America/New_York"];
const USERS = ["ann", "bob", "cy", "dee"];
const RULES = ["S01-1", "S01-2", "S01-3"];
const FIRST = Date.UTC(2026, 10, 9); // well within raw retention

interface Client {
  agent: FakeAgent;
  timeZone: string;
  sessions: UsageSession[];
  /** The usage documents sent so far, by day, so later changes extend them. */
  docs: Map<string, RecordDoc>;
  /** Sessions sent, as last sent. */
  sent: Map<string, string>;
}

describe("summaries", () => {
  let temp: Awaited<ReturnType<typeof tempDir>>;
  let site: SiteHandle;
  let admin: string;
  const clients: Client[] = [];
  const random = new SeededRandom(20261127);

  beforeAll(async () => {
    temp = await tempDir();
    const config = join(temp.dir, "site.json");
    // The test runs the summariser itself.
    await Deno.writeTextFile(
      config,
      JSON.stringify({ summarizeIntervalSeconds: 3600, runningRefreshSeconds: 3600 }),
    );
    site = await startSite(temp.dir, { extra: ["--config", config] });
    admin = await makeToken(site.db, "admin");
    const enroll = await makeToken(site.db, "enroll");
    for (let i = 0; i < 6; i++) {
      clients.push({
        agent: await enrollFakeAgent(site.url, enroll),
        timeZone: ZONES[i % 3],
        sessions: [],
        docs: new Map(),
        sent: new Map(),
      });
    }
    for (const client of clients) generate(client, random, 50);
    for (const client of clients) await send(client);
    await summarise();
  });

  afterAll(async () => {
    await site?.process.stop();
    await temp?.remove();
  });

  async function summarise(rebuild = false) {
    const response = await api(
      site.url,
      admin,
      "POST",
      "/v1/summaries/run",
      rebuild ? { rebuild } : undefined,
    );
    expect(response.status).toBe(200);
    return await response.json();
  }

  /** Sends the sessions that are new or changed since the last send, as an agent does. */
  async function send(client: Client) {
    const changed = client.sessions.filter((s) => client.sent.get(s.id) !== JSON.stringify(s));
    const byDay = new Map<string, UsageSession[]>();
    for (const s of changed) byDay.set(dayOf(s.start), [...byDay.get(dayOf(s.start)) ?? [], s]);
    for (const [day, sessions] of byDay) {
      const doc = client.docs.get(day) ?? newRecordDoc(client.agent.actor);
      client.docs.set(day, writeSessions(doc, day, sessions));
    }
    const items: SyncItem[] = [...byDay.keys()].map((day) =>
      itemFor(usageDocId(client.agent.clientId, day), client.docs.get(day)!)
    );
    if (client.sent.size === 0) {
      items.push(itemFor(inventoryDocId(client.agent.clientId), factsDoc(client)));
    }
    const result = await sendBatch(site.url, client.agent, items);
    expect(result).toEqual({ status: 200 });
    for (const s of changed) client.sent.set(s.id, JSON.stringify(s));
  }

  function oracleInput(): OracleSession[] {
    return clients.flatMap((c) =>
      c.sessions.map((s) => ({
        client: c.agent.clientId,
        rule: s.ruleId,
        user: s.user,
        start: s.start,
        end: s.end!,
        remote: s.remote,
        timeZone: c.timeZone,
      }))
    );
  }

  test("hourly figures, exact peaks included, equal the oracle's", async () => {
    const expected = await expectHoursAsOracle();
    // The data has real concurrency to find.
    expect(Math.max(...[...expected.values()].map((h) => h.peakUsers))).toBeGreaterThanOrEqual(3);
  });

  async function expectHoursAsOracle() {
    const expected = oracleHours(oracleInput());
    const rows = await table("SELECT * FROM hourly_usage");
    const actual = new Map(rows.map((r) => [`${r.rule_id}|${r.hour_ms}`, hourlyFigures(r)]));
    expect(actual.size).toBeGreaterThan(100);
    expect(Object.fromEntries(actual)).toEqual(Object.fromEntries(expected));
    return expected;
  }

  test("monthly rows and totals equal the oracle's", async () => {
    const expected = oracleMonths(oracleInput());
    const rows = await table("SELECT * FROM monthly_usage");
    const actual = Object.fromEntries(rows.map((r) => [
      `${r.rule_id}|${r.month}|${r.user_name}|${r.client_id}`,
      {
        runs: r.runs,
        runMs: r.run_ms,
        lastUseMs: r.last_use_ms,
        remoteRuns: r.remote_runs,
        remoteRunMs: r.remote_run_ms,
      },
    ]));
    expect(actual).toEqual(Object.fromEntries(expected));
    const totals = await table("SELECT * FROM monthly_totals");
    for (const total of totals) {
      const cells = [...expected].filter(([k]) => k.startsWith(`${total.rule_id}|${total.month}|`));
      const remote = cells.filter(([, v]) => v.remoteRuns > 0 || v.remoteRunMs > 0);
      expect(total).toMatchObject({
        users: new Set(cells.map(([k]) => k.split("|")[2])).size,
        computers: new Set(cells.map(([k]) => k.split("|")[3])).size,
        runs: cells.reduce((n, [, v]) => n + v.runs, 0),
        run_ms: cells.reduce((n, [, v]) => n + v.runMs, 0),
        remote_users: new Set(remote.map(([k]) => k.split("|")[2])).size,
        remote_computers: new Set(remote.map(([k]) => k.split("|")[3])).size,
      });
    }
    expect(totals.length).toBe(
      new Set([...expected.keys()].map((k) => k.split("|").slice(0, 2).join("|"))).size,
    );
  });

  test("local-hour users, in each computer's own time zone, equal the oracle's", async () => {
    await expectLocalHoursAsOracle();
  });

  async function expectLocalHoursAsOracle() {
    const expected = oracleLocalHours(oracleInput());
    const rows = await table("SELECT * FROM local_hour_users");
    for (const r of rows) {
      const day = new Date(`${r.local_date}T00:00:00Z`).getUTCDay();
      expect(r.weekday).toBe(day === 0 ? 7 : day);
    }
    const actual = Object.fromEntries(
      rows.map((r) => [`${r.rule_id}|${r.local_date}|${r.local_hour}|${r.time_zone}`, r.users]),
    );
    expect(actual).toEqual(Object.fromEntries(expected));
  }

  test("a late session changes the hours it covers and nothing else", async () => {
    const before = await summaryTables();
    const client = clients[1];
    const start = FIRST + 2 * 86_400_000 + 13 * HOUR + 7 * MINUTE;
    const late = session({
      id: `${dayOf(start)}/900`,
      ruleId: "S01-2",
      user: "eve",
      start,
      end: start + 70 * MINUTE,
    });
    client.sessions.push(late);
    await send(client);
    await summarise();
    const after = await summaryTables();
    const changedHours = diffKeys(before.hourly, after.hourly);
    expect(changedHours.sort()).toEqual([
      `S01-2|${start - 7 * MINUTE}`,
      `S01-2|${start - 7 * MINUTE + HOUR}`,
    ]);
    expect(diffKeys(before.monthly, after.monthly)).toEqual([
      `S01-2|2026-11|eve|${client.agent.clientId}`,
    ]);
    expect(diffKeys(before.totals, after.totals)).toEqual(["S01-2|2026-11"]);
    // And everything still equals the oracle.
    expect(Object.keys(after.hourly).length).toBe(oracleHours(oracleInput()).size);
    await expectLocalHoursAsOracle();
    // Cut short, it leaves its second hour: eve's hours there go from the counts.
    late.end = start + 10 * MINUTE;
    await send(client);
    await summarise();
    await expectLocalHoursAsOracle();
    await expectHoursAsOracle();
    // Counted under another rule, it leaves the first rule's hour: each hour is
    // recounted for the rules queued, the old one with the new.
    late.ruleId = "S01-3";
    await send(client);
    await summarise();
    await expectHoursAsOracle();
    await expectLocalHoursAsOracle();
  });

  test("a rebuild from scratch gives the same tables", async () => {
    const incremental = await summaryTables();
    const run = await summarise(true);
    expect(run.clientDays).toBeGreaterThan(0);
    expect(await summaryTables()).toEqual(incremental);
  });

  test("a running session counts up to the run, and exactly once it ends", async () => {
    const client = clients[2];
    const start = Math.floor((Date.now() - 90 * MINUTE) / MINUTE) * MINUTE;
    const running = session({
      id: `${dayOf(start)}/901`,
      ruleId: "S01-3",
      user: "fay",
      start,
      end: null,
    });
    client.sessions.push(running);
    await send(client);
    const ranAt = Date.now();
    await summarise();
    const sum = await table(`SELECT sum(run_ms) AS ms FROM daily_usage WHERE user_name = 'fay'`);
    expect(Math.abs((sum[0].ms as number) - (ranAt - start))).toBeLessThan(5_000);
    running.end = start + 80 * MINUTE;
    await send(client);
    await summarise();
    const ended = await table(
      `SELECT sum(run_ms) AS ms, sum(runs) AS runs FROM monthly_usage WHERE user_name = 'fay'`,
    );
    expect(ended[0]).toEqual({ ms: 80 * MINUTE, runs: 1 });
    // The hours it no longer reaches are taken out of the local-hour counts.
    await expectLocalHoursAsOracle();
    const hours = await table(
      `SELECT sum(run_ms) AS ms FROM hourly_usage WHERE rule_id = 'S01-3' AND hour_ms >= ${
        Math.floor(start / HOUR) * HOUR
      }`,
    );
    const others = oracleHours(oracleInput().filter((s) => s.rule === "S01-3" && s.end > start));
    const othersMs = [...others].filter(([k]) =>
      Number(k.split("|")[1]) >= Math.floor(start / HOUR) * HOUR
    )
      .reduce((n, [, v]) => n + v.runMs, 0);
    expect(hours[0].ms).toBe(othersMs);
  });

  function table(sql: string) {
    return withSiteDb(site.db, async (db) => {
      const result = await db.execute(sql);
      return result.rows.map((row) => Object.fromEntries(result.columns.map((c) => [c, row[c]])));
    });
  }

  async function summaryTables() {
    const keyed = async (sql: string, key: (r: Record<string, unknown>) => string) => {
      const rows = await table(sql);
      return Object.fromEntries(rows.map((r) => {
        const { updated_at: _, ...rest } = r;
        return [key(r), rest];
      }));
    };
    return {
      hourly: await keyed("SELECT * FROM hourly_usage", (r) => `${r.rule_id}|${r.hour_ms}`),
      monthly: await keyed(
        "SELECT * FROM monthly_usage",
        (r) => `${r.rule_id}|${r.month}|${r.user_name}|${r.client_id}`,
      ),
      totals: await keyed("SELECT * FROM monthly_totals", (r) => `${r.rule_id}|${r.month}`),
      local: await keyed(
        "SELECT * FROM local_hour_users",
        (r) => `${r.rule_id}|${r.local_date}|${r.local_hour}|${r.time_zone}`,
      ),
      userHours: await keyed(
        "SELECT * FROM local_user_hours",
        (r) => `${r.rule_id}|${r.local_date}|${r.time_zone}|${r.user_name}`,
      ),
      daily: await keyed(
        "SELECT * FROM daily_usage",
        (r) => `${r.client_id}|${r.day}|${r.rule_id}|${r.user_name}`,
      ),
    };
  }
});

function diffKeys(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]));
}

/** Sessions over three days: short, long, across midnight, zero-length, ties, remote. */
function generate(client: Client, random: SeededRandom, count: number): void {
  const seq = new Map<string, number>();
  for (let i = 0; i < count; i++) {
    const start = FIRST + random.below(3 * 24 * 60) * MINUTE;
    const kind = random.next();
    const minutes = kind < 0.6
      ? 1 + random.below(50)
      : kind < 0.8
      ? 60 + random.below(600)
      : kind < 0.9
      ? 1500 + random.below(900)
      : 0;
    addSession(client, seq, start, minutes, random);
    // Some runs start at the same instant as another, for ties in the sweep.
    if (random.next() < 0.1) addSession(client, seq, start, 1 + random.below(30), random);
  }
}

function addSession(
  client: Client,
  seq: Map<string, number>,
  start: number,
  minutes: number,
  random: SeededRandom,
) {
  const day = dayOf(start);
  const n = (seq.get(day) ?? 0) + 1;
  seq.set(day, n);
  client.sessions.push(session({
    id: `${day}/${n}`,
    ruleId: RULES[random.below(RULES.length)],
    user: USERS[random.below(USERS.length)],
    start,
    end: start + minutes * MINUTE,
    remote: random.next() < 0.2,
  }));
}

function factsDoc(client: Client) {
  return A.change(newRecordDoc(client.agent.actor), (d) => {
    d[FACTS_KEY] = encodeFacts({
      hostName: client.agent.hostName,
      osName: "Test",
      osVersion: "1",
      kernel: "6",
      arch: "x86_64",
      timeZone: client.timeZone,
      agentVersion: "test",
    });
  });
}
