/**
 * The site's summariser on its own thread (`summarizer_thread.ts`): on a
 * database file it runs in a worker that hands its writes back to the
 * site's connection; stopped, it starts a new worker for the next run; on a
 * database that is not a file it runs on the site's thread. Each way, the
 * sessions waiting are summarised into the same tables. A rebuild shared
 * among workers, by rule, gives the tables one summariser gives alone, and a
 * run asked meanwhile waits for it.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { join } from "node:path";
import { databaseFile } from "../store/database_file.ts";
import { openSiteDatabase } from "../site/site_db.ts";
import { DEFAULT_SETTINGS } from "../site/site_settings.ts";
import { rebuildWorkers, SummarizerThread } from "../site/summaries/summarizer_thread.ts";
import { Summarizer } from "../site/summaries/summarizer.ts";
import { SeededRandom } from "../lib/seeded_random.ts";
import type { Client } from "../store/db.ts";
import { Mutex } from "../lib/mutex.ts";
import { tempDir } from "./helpers/metered_program.ts";
import { sessionRowsStatements } from "./helpers/session_rows.ts";

const HOUR = 3_600_000;
const NOW = Date.UTC(2026, 10, 20, 12);

/** One client and `n` hour-long sessions, waiting for the summariser. */
async function addSessions(db: Client, from: number, n: number): Promise<void> {
  await db.execute(
    "INSERT OR IGNORE INTO clients (client_id, host_name, time_zone, enrolled_at, enrolled_with) " +
      "VALUES ('c1', 'host1', 'UTC', 0, 't')",
  );
  for (let i = 0; i < n; i++) {
    const start = from + i * HOUR;
    await db.batch([
      ...sessionRowsStatements([{ client: "c1", id: `${start}`, start, end: start + HOUR / 2 }]),
      {
        sql: "INSERT INTO summary_pending (rule_id, client_id, start_ms, end_ms) " +
          "VALUES ('S01-1', 'c1', ?, ?)",
        args: [start, start + HOUR / 2],
      },
    ], "write");
  }
}

/**
 * Four computers in four zones, a week of sessions of six rules (one far
 * busier than the others, one with a hostile id), some running, a few
 * zero-length.
 */
async function addFleet(db: Client): Promise<void> {
  const random = new SeededRandom(11);
  const zones = ["UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata"];
  await db.batch(
    zones.map((zone, i) => ({
      sql: "INSERT INTO clients (client_id, host_name, time_zone, enrolled_at, enrolled_with) " +
        "VALUES (?, ?, ?, 0, 't')",
      args: [`c${i}`, `host${i}`, zone],
    })),
    "write",
  );
  const sessions = Array.from({ length: 400 }, (_, i) => {
    const start = NOW - 7 * 24 * HOUR + random.below(7 * 24 * 60) * 60_000;
    const length = i % 50 === 0 ? 0 : random.below(300) * 60_000;
    return {
      client: `c${random.below(4)}`,
      id: `s${i}`,
      // One rule's id carries quotes, a backslash and a non-ASCII letter.
      rule: i % 2 === 0 ? "S01-1" : i % 7 === 0 ? `S01-'"\\é` : `S01-${2 + random.below(4)}`,
      user: `u${random.below(6)}`,
      start,
      end: i % 97 === 0 ? null : Math.min(start + length, NOW),
    };
  });
  await db.batch(sessionRowsStatements(sessions), "write");
}

/** Every summary table's rows, in order. */
async function summaryTables(db: Client): Promise<Record<string, unknown[][]>> {
  const tables: Record<string, unknown[][]> = {};
  for (
    const table of [
      "hourly_usage",
      "daily_usage",
      "monthly_usage",
      "monthly_totals",
      "local_user_hours",
      "local_hour_users",
    ]
  ) {
    const result = await db.execute(`SELECT * FROM ${table} ORDER BY 1, 2, 3, 4`);
    tables[table] = result.rows.map((row) => result.columns.map((_, i) => row[i]));
  }
  return tables;
}

async function hourlyRows(db: Client): Promise<number> {
  const result = await db.execute("SELECT count(*) AS n FROM hourly_usage");
  return result.rows[0].n as number;
}

/** A site database and a summariser thread on it, both closed after `body`. */
async function withThread(
  path: string,
  body: (db: Client, thread: SummarizerThread) => Promise<void>,
  rebuildWorkers?: number,
): Promise<void> {
  const db = await openSiteDatabase(path);
  const thread = new SummarizerThread({
    db,
    lock: new Mutex(),
    settings: () => DEFAULT_SETTINGS,
    rebuildWorkers,
  });
  try {
    await body(db, thread);
  } finally {
    thread.close();
    db.close();
  }
}

describe("the summariser's thread", () => {
  let temp: Awaited<ReturnType<typeof tempDir>>;

  beforeAll(async () => {
    temp = await tempDir();
  });

  afterAll(async () => {
    await temp?.remove();
  });

  test("summarises a database file in a worker, and again after being stopped", async () => {
    await withThread(join(temp.dir, "site.db"), async (db, thread) => {
      expect(await databaseFile(db)).toBe(join(temp.dir, "site.db"));
      await addSessions(db, NOW - 6 * HOUR, 3);
      expect((await thread.run(NOW)).sessions).toBe(3);
      expect(await hourlyRows(db)).toBe(3);
      thread.close();
      await addSessions(db, NOW - 3 * HOUR, 2);
      expect((await thread.run(NOW)).sessions).toBe(2);
      expect(await hourlyRows(db)).toBe(5);
    });
  });

  test("summarises a database that is not a file on the site's thread", async () => {
    await withThread(":memory:", async (db, thread) => {
      expect(await databaseFile(db)).toBeUndefined();
      await addSessions(db, NOW - 6 * HOUR, 3);
      expect((await thread.run(NOW)).sessions).toBe(3);
      expect(await hourlyRows(db)).toBe(3);
    });
  });

  test.each([2, 3])(
    "a rebuild shared among %i workers gives the tables one summariser gives",
    async (workers) => {
      const alone = await openSiteDatabase(join(temp.dir, `alone${workers}.db`));
      try {
        await addFleet(alone);
        const summarizer = new Summarizer({
          db: alone,
          lock: new Mutex(),
          settings: () => DEFAULT_SETTINGS,
        });
        const once = await summarizer.rebuild(NOW);
        await withThread(join(temp.dir, `shared${workers}.db`), async (db, thread) => {
          await addFleet(db);
          const shared = await thread.rebuild(NOW);
          expect(shared.sessions).toBe(once.sessions);
          expect(shared.hours).toBe(once.hours);
          const tables = await summaryTables(db);
          expect(tables.hourly_usage.length).toBeGreaterThan(100);
          expect(tables.monthly_totals.map((row) => row[0])).toContain(`S01-'"\\é`);
          expect(tables).toEqual(await summaryTables(alone));
        }, workers);
      } finally {
        alone.close();
      }
    },
  );

  test("a rebuild takes a worker per core but the site's, from two to four", () => {
    expect([1, 2, 3, 4, 8, 64].map((cores) => rebuildWorkers(cores))).toEqual([2, 2, 2, 3, 4, 4]);
  });

  test("a run asked during a rebuild waits for it", async () => {
    await withThread(join(temp.dir, "waits.db"), async (db, thread) => {
      await addFleet(db);
      const finished: string[] = [];
      const rebuilt = thread.rebuild(NOW).then(() => finished.push("rebuild"));
      await addSessions(db, NOW - 3 * HOUR, 2);
      const ran = thread.run(NOW).then((run) => {
        finished.push("run");
        return run;
      });
      await Promise.all([rebuilt, ran]);
      expect(finished).toEqual(["rebuild", "run"]);
      // Whichever took the two sessions added meanwhile, none is left waiting.
      const waiting = await db.execute("SELECT count(*) AS n FROM summary_pending");
      expect(waiting.rows[0].n).toBe(0);
    });
  });
});
