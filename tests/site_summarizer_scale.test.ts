/**
 * The summariser's two ways of reading a day (one computer at a time, and
 * one window over the fleet's day): incremental runs (new sessions, late
 * ones, running ones) must leave exactly the tables a rebuild makes.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { join } from "node:path";
import { type SiteContext } from "../site/site_context.ts";
import { closeSite, openSite } from "../site/site_server.ts";
import { statementBytes, storeUnderLock, Summarizer } from "../site/summaries/summarizer.ts";
import type { InStatement } from "../store/db.ts";
import { usageStatements } from "../site/usage/usage_materializer.ts";
import * as A from "@automerge/automerge";
import { dayOf } from "../model/doc_id.ts";
import { tempDir } from "./helpers/metered_program.ts";
import { newRecordDoc, session, writeSessions } from "./helpers/fake_agent.ts";
import { SeededRandom } from "../lib/seeded_random.ts";

const CLIENTS = 150;
const MINUTE = 60_000;
const NOW = Date.UTC(2026, 10, 20, 12);

describe("summariser at a few hundred computers", () => {
  let temp: Awaited<ReturnType<typeof tempDir>>;
  let site: SiteContext;
  const random = new SeededRandom(7);
  let seq = 0;

  beforeAll(async () => {
    temp = await tempDir();
    site = await openSite({ db: join(temp.dir, "site.db"), code: "S01" });
    const zones = ["UTC", "Europe/Paris", "Asia/Kolkata"];
    await site.db.batch(
      Array.from({ length: CLIENTS }, (_, i) => ({
        sql:
          "INSERT INTO clients (client_id, host_name, time_zone, enrolled_at, enrolled_with) VALUES (?, ?, ?, 0, 't')",
        args: [`c${i}`, `host${i}`, zones[i % 3]],
      })),
      "write",
    );
  });

  afterAll(async () => {
    if (site) closeSite(site);
    await temp?.remove();
  });

  /** Sessions for every computer, through the same statements a sync uses. */
  async function ingest(from: number, span: number, running = false) {
    for (let c = 0; c < CLIENTS; c++) {
      const sessions = Array.from({ length: 3 }, () => {
        const start = from + random.below(span / MINUTE) * MINUTE;
        return session({
          id: `${dayOf(start)}/${++seq}`,
          ruleId: `S01-${1 + random.below(3)}`,
          user: `u${c % 40}`,
          start,
          end: running ? null : start + (1 + random.below(240)) * MINUTE,
          remote: random.next() < 0.1,
        });
      });
      for (const [day, own] of Map.groupBy(sessions, (s) => dayOf(s.start))) {
        const doc = writeSessions(newRecordDoc("ab".repeat(16)), day, own);
        await site.db.batch(
          usageStatements(
            `c${c}`,
            day,
            doc,
            { put: new Set(Object.keys(doc)), deleted: new Set() },
            A.getHeads(A.init()),
            { now: NOW },
          ),
          "write",
        );
      }
    }
  }

  async function tables() {
    const read = async (sql: string) => (await site.db.execute(sql)).rows.map((r) => ({ ...r }));
    return {
      hourly: await read("SELECT * FROM hourly_usage ORDER BY rule_id, hour_ms"),
      daily: await read("SELECT * FROM daily_usage ORDER BY client_id, day, rule_id, user_name"),
      monthly: await read(
        "SELECT * FROM monthly_usage ORDER BY rule_id, month, user_name, client_id",
      ),
      totals: await read("SELECT * FROM monthly_totals ORDER BY rule_id, month"),
      local: await read(
        "SELECT * FROM local_hour_users ORDER BY rule_id, local_date, local_hour, time_zone",
      ),
    };
  }

  const withoutUpdatedAt = (t: Awaited<ReturnType<typeof tables>>) => ({
    ...t,
    hourly: t.hourly.map(({ updated_at: _, ...rest }) => rest),
  });

  test("incremental runs equal a rebuild", async () => {
    // Few enough computers to read one by one, and a summariser that reads them by window.
    const byWindow = new Summarizer({
      db: site.db,
      lock: site.lock,
      settings: () => site.settings,
      windowReadFrom: CLIENTS / 2,
    });
    await ingest(NOW - 2 * 86_400_000, 2 * 86_400_000);
    let run = await byWindow.run(NOW);
    expect(run.clientDays).toBeGreaterThan(CLIENTS);
    // Late sessions for days already summarised, and sessions still running.
    await ingest(NOW - 5 * 86_400_000, 86_400_000);
    await ingest(NOW - 3 * 3_600_000, 3_600_000, true);
    run = await site.summarizer.run(NOW);
    expect(run.sessions).toBe(2 * 3 * CLIENTS);
    const incremental = withoutUpdatedAt(await tables());
    expect(incremental.daily.length).toBeGreaterThan(CLIENTS);
    await site.summarizer.rebuild(NOW);
    expect(withoutUpdatedAt(await tables())).toEqual(incremental);
  });

  // Each transaction is a task of the site's thread that no request can interrupt.
  test("a run stores bounded transactions and still equals a rebuild", async () => {
    const limit = 8 * 1024;
    const transactions: InStatement[][] = [];
    const bounded = new Summarizer({
      db: site.db,
      lock: site.lock,
      settings: () => site.settings,
      bytesPerTransaction: limit,
      store: async (statements) => {
        transactions.push(statements);
        await storeUnderLock(site.db, site.lock, statements);
      },
    });
    await ingest(NOW - 2 * 86_400_000, 2 * 86_400_000);
    await bounded.run(NOW);
    expect(transactions.length).toBeGreaterThan(3);
    for (const statements of transactions) {
      const bytes = statements.reduce((sum, s) => sum + statementBytes(s), 0);
      // Larger only when one bucket's delete and insert must go together.
      if (bytes > limit) expect(statements.length).toBeLessThanOrEqual(3);
    }
    const incremental = withoutUpdatedAt(await tables());
    await site.summarizer.rebuild(NOW);
    expect(withoutUpdatedAt(await tables())).toEqual(incremental);
  });

  // The embedded connection reads on the site's own thread: without turns,
  // a run's hundreds of reads would hold every sync request until it ends.
  test("a run lets timers and I/O in between its reads", async () => {
    const timerTurnsDuring = async (eventLoopBudgetMs: number) => {
      await ingest(NOW - 4 * 3_600_000, 3 * 3_600_000);
      const summarizer = new Summarizer({
        db: site.db,
        lock: site.lock,
        settings: () => site.settings,
        eventLoopBudgetMs,
      });
      let turns = 0;
      let timer = setTimeout(function tick() {
        turns++;
        timer = setTimeout(tick, 0);
      }, 0);
      const run = await summarizer.run(NOW);
      clearTimeout(timer);
      expect(run.clientDays).toBe(CLIENTS);
      return turns;
    };
    expect(await timerTurnsDuring(Infinity)).toBe(0);
    expect(await timerTurnsDuring(0)).toBeGreaterThan(10);
  });

  // The site's own summariser runs in a worker that never gives a turn
  // (`summarizer_worker.ts`): the site's thread stays free all along.
  test("the site's summariser leaves the site's thread free", async () => {
    await ingest(NOW - 4 * 3_600_000, 3 * 3_600_000);
    let turns = 0;
    let timer = setTimeout(function tick() {
      turns++;
      timer = setTimeout(tick, 0);
    }, 0);
    const run = await site.summarizer.run(NOW);
    clearTimeout(timer);
    expect(run.clientDays).toBe(CLIENTS);
    expect(turns).toBeGreaterThan(10);
  });
});

describe("a session that ends after runs that did not refresh it", () => {
  test("changes exactly what a rebuild gives", async () => {
    const temp = await tempDir();
    const site = await openSite({
      db: join(temp.dir, "site.db"),
      code: "S01",
      settings: { runningRefreshSeconds: 86_400 },
    });
    try {
      const HOUR = 3_600_000;
      const T0 = Date.UTC(2026, 10, 20, 9, 30);
      await site.db.execute(
        "INSERT INTO clients (client_id, host_name, time_zone, enrolled_at, enrolled_with) VALUES ('c1', 'h', 'Asia/Kolkata', 0, 't')",
      );
      const send = async (end: number | null, at: number) => {
        const s = session({
          id: `${dayOf(T0)}/1`,
          ruleId: "S01-1",
          user: "ann",
          start: T0 - 2 * HOUR,
          end,
        });
        const doc = writeSessions(newRecordDoc("cd".repeat(16)), dayOf(T0), [s]);
        const keys = { put: new Set(Object.keys(doc)), deleted: new Set<string>() };
        await site.db.batch(
          usageStatements("c1", dayOf(T0), doc, keys, A.getHeads(A.init()), { now: at }),
          "write",
        );
      };
      await site.summarizer.run(T0); // the first run refreshes: nothing runs yet
      await send(null, T0 + 10 * 60_000);
      await site.summarizer.run(T0 + 10 * 60_000); // counted as running, up to then
      await site.summarizer.run(T0 + 2 * HOUR); // nothing new, no refresh
      await send(T0 + 90 * 60_000, T0 + 2 * HOUR + 5 * 60_000);
      const end = T0 + 2 * HOUR + 10 * 60_000;
      await site.summarizer.run(end);
      const read = async (sql: string) => (await site.db.execute(sql)).rows.map((r) => ({ ...r }));
      const tables = async () => ({
        hourly: (await read("SELECT * FROM hourly_usage ORDER BY hour_ms")).map((
          { updated_at: _, ...r },
        ) => r),
        daily: await read("SELECT * FROM daily_usage"),
        local: await read("SELECT * FROM local_hour_users ORDER BY local_date, local_hour"),
      });
      const incremental = await tables();
      expect(incremental.daily[0]).toMatchObject({ run_ms: 210 * 60_000, runs: 1 });
      await site.summarizer.rebuild(end);
      expect(await tables()).toEqual(incremental);
    } finally {
      closeSite(site);
      await temp.remove();
    }
  });
});
