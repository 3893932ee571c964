/**
 * The site's summariser on its own thread (`summarizer_thread.ts`): on a
 * database file it runs in a worker that hands its writes back to the
 * site's connection; stopped, it starts a new worker for the next run; on a
 * database that is not a file it runs on the site's thread. Each way, the
 * sessions waiting are summarised into the same tables.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { join } from "node:path";
import { databaseFile } from "../store/database_file.ts";
import { openSiteDatabase } from "../site/site_db.ts";
import { DEFAULT_SETTINGS } from "../site/site_settings.ts";
import { SummarizerThread } from "../site/summaries/summarizer_thread.ts";
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

async function hourlyRows(db: Client): Promise<number> {
  const result = await db.execute("SELECT count(*) AS n FROM hourly_usage");
  return result.rows[0].n as number;
}

/** A site database and a summariser thread on it, both closed after `body`. */
async function withThread(
  path: string,
  body: (db: Client, thread: SummarizerThread) => Promise<void>,
): Promise<void> {
  const db = await openSiteDatabase(path);
  const thread = new SummarizerThread({ db, lock: new Mutex(), settings: () => DEFAULT_SETTINGS });
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
});
