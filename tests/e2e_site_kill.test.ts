/**
 * The site killed with SIGKILL at random moments during heavy sync, and
 * restarted on the same database file and port, many times in a row: once
 * the agents have delivered everything, every session is at the site
 * exactly once with the values the agent wrote last, and the summaries
 * (made by the site's own schedule, every second here, so kills land in
 * summariser runs too) equal an independent recomputation from the
 * sessions; a rebuild from scratch changes nothing.
 *
 * The agents are in-process clients with their own libSQL files and the real
 * sync client, each writing sessions all the time, some still running and
 * ended later, and syncing several times a second, retrying while the site is down.
 * The kill moments come from a seed printed at the start; set
 * `METER_FAULT_SEED` to run the same plan again.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import * as A from "@automerge/automerge";
import { join } from "node:path";
import { encodeFacts, FACTS_KEY } from "../model/client_facts.ts";
import { dayOf, inventoryDocId, usageDocId } from "../model/doc_id.ts";
import { SyncError } from "../sync/sync_client.ts";
import type { UsageSession } from "../model/usage_record.ts";
import { AgentSyncStore } from "./helpers/agent_sync_store.ts";
import {
  enrollFakeAgent,
  type FakeAgent,
  newRecordDoc,
  type RecordDoc,
  session,
  writeSessions,
} from "./helpers/fake_agent.ts";
import { type SiteHandle, startSite } from "./helpers/meter_process.ts";
import { tempDir } from "./helpers/metered_program.ts";
import { SeededRandom } from "../lib/seeded_random.ts";
import { api, makeToken, sessions } from "./helpers/site_api.ts";
import { withSiteDb } from "./helpers/site_tables.ts";
import type { OracleSession } from "./helpers/summary_oracle.ts";
import { oracleSummaries, siteSummaries } from "./helpers/summary_tables.ts";
import { sleep, waitFor } from "./helpers/wait_for.ts";

const SEED = Number(Deno.env.get("METER_FAULT_SEED") ?? Math.floor(Math.random() * 2 ** 31));
const MINUTE = 60_000;
const HOUR = 3_600_000;
const CLIENTS = 6;
const ZONES = ["Europe/Paris", "Asia/Kolkata", "America/New_York", "UTC"];
const USERS = ["ann", "bob", "cy", "dee"];
const RULES = ["S01-1", "S01-2", "S01-3"];

/** One agent: its documents, what it wrote, and a loop that syncs several times a second. */
class Client {
  readonly docs = new Map<string, RecordDoc>();
  /** Every session as last written, by id. */
  readonly sessions = new Map<string, UsageSession>();
  readonly running: UsageSession[] = [];
  readonly #next = new Map<string, number>();
  syncs = 0;
  failures = 0;

  constructor(
    readonly agent: FakeAgent,
    readonly store: AgentSyncStore,
    readonly timeZone: string,
    readonly random: SeededRandom,
  ) {
    const facts = A.change(newRecordDoc(agent.actor), (d) => {
      d[FACTS_KEY] = encodeFacts({
        hostName: agent.hostName,
        osName: "Test",
        osVersion: "1",
        kernel: "6",
        arch: "x86_64",
        timeZone,
        agentVersion: "test",
      });
    });
    this.docs.set(inventoryDocId(agent.clientId), facts);
  }

  /** A few new sessions, ended or still running, and ends for some running ones. */
  write(now: number): void {
    const changed: UsageSession[] = [];
    const nowMinute = Math.floor(now / MINUTE) * MINUTE;
    for (let i = 0, n = 2 + this.random.below(6); i < n; i++) {
      const kind = this.random.next();
      if (kind < 0.15) {
        // Still running: started in the last hour and a half.
        const start = nowMinute - (2 + this.random.below(88)) * MINUTE;
        const s = this.#session(start, null);
        this.running.push(s);
        changed.push(s);
        continue;
      }
      const minutes = kind < 0.7
        ? 1 + this.random.below(50)
        : kind < 0.9
        ? 60 + this.random.below(300)
        : kind < 0.95
        ? 1500 + this.random.below(500)
        : 0;
      // Within the last three days, ended at least an hour ago.
      const latest = nowMinute - HOUR - minutes * MINUTE;
      const start = latest - this.random.below(3 * 24 * 60) * MINUTE;
      changed.push(this.#session(start, start + minutes * MINUTE));
    }
    for (let i = this.random.below(3); i > 0 && this.running.length > 0; i--) {
      changed.push(this.#end(this.running.shift()!, nowMinute));
    }
    this.#store(changed);
  }

  /** Ends every session still running. */
  endAll(now: number): void {
    const ended = this.running.splice(0).map((s) =>
      this.#end(s, Math.floor(now / MINUTE) * MINUTE)
    );
    this.#store(ended);
  }

  #session(start: number, end: number | null): UsageSession {
    const day = dayOf(start);
    const n = this.#next.get(day) ?? 1;
    this.#next.set(day, n + 1);
    return session({
      id: `${day}/${n}`,
      ruleId: this.random.pick(RULES),
      user: this.random.pick(USERS),
      pid: 1000 + this.random.below(30_000),
      start,
      end,
      remote: this.random.next() < 0.2,
    });
  }

  #end(s: UsageSession, at: number): UsageSession {
    return { ...s, end: Math.max(s.start, at) };
  }

  #store(changed: UsageSession[]): void {
    const byDay = new Map<string, UsageSession[]>();
    for (const s of changed) {
      this.sessions.set(s.id, s);
      const day = dayOf(s.start);
      byDay.set(day, [...byDay.get(day) ?? [], s]);
    }
    for (const [day, list] of byDay) {
      const docId = usageDocId(this.agent.clientId, day);
      this.docs.set(
        docId,
        writeSessions(this.docs.get(docId) ?? newRecordDoc(this.agent.actor), day, list),
      );
    }
  }

  /** One sync; false when the site was away (any other failure throws). */
  async sync(): Promise<boolean> {
    this.syncs++;
    try {
      await this.store.sync(this.docs);
      return true;
    } catch (error) {
      if (!(error instanceof SyncError) || !error.retryable) throw error;
      this.failures++;
      return false;
    }
  }

  /**
   * Writes and syncs until `calm`, then ends its running
   * sessions and syncs until the site has taken everything.
   */
  async run(calm: () => boolean): Promise<void> {
    while (!calm()) {
      this.write(Date.now());
      // A short pause after a success keeps the number of sessions the
      // oracle checks in the thousands; a failure is retried soon.
      await sleep(await this.sync() ? 100 + this.random.below(200) : 50 + this.random.below(250));
    }
    this.endAll(Date.now());
    while (!await this.sync()) await sleep(200);
  }

  oracle(): OracleSession[] {
    return [...this.sessions.values()].map((s) => ({
      client: this.agent.clientId,
      rule: s.ruleId,
      user: s.user,
      start: s.start,
      end: s.end!,
      remote: s.remote,
      timeZone: this.timeZone,
    }));
  }
}

describe("the site killed at random moments during heavy sync", () => {
  let temp: Awaited<ReturnType<typeof tempDir>>;
  let site: SiteHandle;
  let config: string;
  let admin: string;
  const clients: Client[] = [];
  const random = new SeededRandom(SEED);
  let kills = 0;

  beforeAll(async () => {
    console.log(`e2e_site_kill: seed ${SEED} (METER_FAULT_SEED=${SEED} runs this plan again)`);
    temp = await tempDir();
    config = join(temp.dir, "site.json");
    // The site summarises every second on its own, so kills hit summariser runs too.
    await Deno.writeTextFile(
      config,
      JSON.stringify({ summarizeIntervalSeconds: 1, runningRefreshSeconds: 3600 }),
    );
    site = await startSite(temp.dir, { extra: ["--config", config] });
    admin = await makeToken(site.db, "admin");
    const enroll = await makeToken(site.db, "enroll");
    for (let i = 0; i < CLIENTS; i++) {
      const agent = await enrollFakeAgent(site.url, enroll);
      const store = await AgentSyncStore.open(
        join(temp.dir, `agent-${i}.db`),
        site.url,
        agent,
      );
      clients.push(
        new Client(agent, store, ZONES[i % ZONES.length], new SeededRandom(SEED + i + 1)),
      );
    }
  });

  afterAll(async () => {
    for (const client of clients) client.store.close();
    await site?.process.kill();
    await temp?.remove();
  });

  test("every session arrives exactly once and the summaries equal a recomputation", async () => {
    let calm = false;
    const running = clients.map((c) => c.run(() => calm));
    const plannedKills = 8 + random.below(8);
    try {
      for (let i = 0; i < plannedKills; i++) {
        await sleep(300 + random.below(1200));
        await site.process.kill();
        kills++;
        await sleep(random.below(300));
        site = await startSite(temp.dir, { port: site.port, extra: ["--config", config] });
      }
    } finally {
      calm = true;
      await Promise.all(running);
    }
    const written = clients.flatMap((c) => c.oracle());
    console.log(
      `e2e_site_kill: seed ${SEED}, ${kills} kills, ${written.length} sessions from ${CLIENTS} ` +
        `agents, ${clients.reduce((n, c) => n + c.syncs, 0)} syncs of which ` +
        `${clients.reduce((n, c) => n + c.failures, 0)} failed`,
    );

    // Every session exactly once, as last written.
    const atSite = await sessions(site.url, admin);
    const key = (client: string, id: string) => `${client}|${id}`;
    const seen = atSite.map((s) => key(s.clientId, s.id));
    expect(seen.length, "no session listed twice").toBe(new Set(seen).size);
    const expected = Object.fromEntries(
      clients.flatMap((c) =>
        [...c.sessions.values()].map((s) => [key(c.agent.clientId, s.id), {
          rule: s.ruleId,
          user: s.user,
          start: s.start,
          end: s.end,
          remote: s.remote,
        }])
      ),
    );
    const actual = Object.fromEntries(atSite.map((s) => [key(s.clientId, s.id), {
      rule: s.ruleId,
      user: s.user,
      start: Date.parse(s.start),
      end: s.end === null ? null : Date.parse(s.end),
      remote: s.remote,
    }]));
    expect(actual).toEqual(expected);

    // The site's own schedule summarises what waits.
    await waitFor("the summariser to take every changed session", async () => {
      const [row] = await query("SELECT count(*) AS n FROM summary_pending");
      return row.n === 0;
    }, { timeoutMs: 30_000 });
    const summaries = await siteSummaries(site.db);
    const oracle = oracleSummaries(written);
    expect(Object.keys(summaries.hourly).length).toBeGreaterThan(50);
    expect(summaries.hourly).toEqual(oracle.hourly);
    expect(summaries.monthly).toEqual(oracle.monthly);
    expect(summaries.totals).toEqual(oracle.totals);
    expect(summaries.localHours).toEqual(oracle.localHours);

    // The computers' days too: what the schedule made equals a rebuild from scratch.
    const daily = () =>
      query("SELECT * FROM daily_usage ORDER BY client_id, day, rule_id, user_name");
    const before = await daily();
    const rebuild = await api(site.url, admin, "POST", "/v1/summaries/run", { rebuild: true });
    expect(rebuild.status).toBe(200);
    expect(await daily()).toEqual(before);
    expect(await siteSummaries(site.db)).toEqual(summaries);
  });

  function query(sql: string) {
    return withSiteDb(site.db, async (db) => {
      const result = await db.execute(sql);
      return result.rows.map((row) => Object.fromEntries(result.columns.map((c) => [c, row[c]])));
    });
  }
});
