/**
 * Retention: raw sessions that ended before `rawRetentionDays` and summaries
 * older than `summaryRetentionDays` are deleted, in batches (more rows than
 * one batch holds go in several), and nothing younger is touched.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { join } from "node:path";
import * as A from "@automerge/automerge";
import { runMaintenance } from "../site/usage/retention.ts";
import { dayOf, summaryDocId } from "../model/doc_id.ts";
import { type SiteContext } from "../site/site_context.ts";
import { closeSite, openSite } from "../site/site_server.ts";
import { tempDir } from "./helpers/metered_program.ts";
import { sessionRowsStatements } from "./helpers/session_rows.ts";

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 10, 27, 12);

describe("retention", () => {
  let temp: Awaited<ReturnType<typeof tempDir>>;
  let site: SiteContext;

  beforeAll(async () => {
    temp = await tempDir();
    site = await openSite({ db: join(temp.dir, "site.db"), code: "S01" });
  });

  afterAll(async () => {
    if (site) closeSite(site);
    await temp?.remove();
  });

  const count = async (sql: string) => Number((await site.db.execute(sql)).rows[0][0]);

  test("deletes what is past retention, in batches, and keeps the rest", async () => {
    // 12,000 old sessions (more than two batches), 10 recent, 3 running since long ago.
    const rows: [string, string, number, number | null][] = [];
    for (let i = 0; i < 12_000; i++) {
      rows.push(["c1", `old/${i}`, NOW - 40 * DAY + i, NOW - 40 * DAY + i + 1000]);
    }
    for (let i = 0; i < 10; i++) rows.push(["c1", `new/${i}`, NOW - DAY + i, NOW - DAY + i + 1000]);
    for (let i = 0; i < 3; i++) rows.push(["c1", `run/${i}`, NOW - 60 * DAY, null]);
    await site.db.batch(
      sessionRowsStatements(rows.map(([client, id, start, end]) => ({ client, id, start, end }))),
      "write",
    );
    const hourly = (hour: number) =>
      `('S01-1', ${hour}, 1, 1, 1, 1, 1, 1, ${hour}, 1, ${hour}, 0, 0, 0)`;
    await site.db.execute(
      `INSERT INTO hourly_usage VALUES ${hourly(NOW - 500 * DAY)}, ${hourly(NOW - 10 * DAY)}`,
    );
    await site.db.execute(
      `INSERT INTO monthly_usage VALUES ('S01-1', '2025-01', 'ann', 'c1', 1, 1, 1, 0, 0),
        ('S01-1', '2026-11', 'ann', 'c1', 1, 1, 1, 0, 0)`,
    );
    // Users' hours on the local date before the first day with raw sessions can still
    // change (that day's runs reach back into it); the date before that cannot.
    const rawDay = NOW - site.settings.rawRetentionDays * DAY;
    const dates = [rawDay - 2 * DAY, rawDay - DAY, NOW].map((t) => dayOf(t));
    await site.db.execute({
      sql: `INSERT INTO local_user_hours SELECT 'S01-1', value, 'UTC', 'ann', 1 FROM json_each(?)`,
      args: [JSON.stringify(dates)],
    });
    const result = await runMaintenance(site.db, site.lock, site.settings, NOW);
    expect(result.rawSessions).toBe(12_000);
    expect((await site.db.execute("SELECT local_date FROM local_user_hours ORDER BY 1")).rows
      .map((r) => r.local_date)).toEqual(dates.slice(1));
    expect(await count("SELECT count(*) FROM usage_sessions")).toBe(13);
    expect(await count("SELECT count(*) FROM usage_sessions WHERE end_ms IS NULL")).toBe(3);
    expect(result.summaryRows).toBe(3);
    expect(await count("SELECT count(*) FROM hourly_usage")).toBe(1);
    expect(await count("SELECT count(*) FROM monthly_usage WHERE month = '2026-11'")).toBe(1);
    // Nothing left to do the second time.
    expect(await runMaintenance(site.db, site.lock, site.settings, NOW)).toEqual({
      rawSessions: 0,
      summaryRows: 0,
      summaryDocs: 0,
    });
  });

  test("a computer's or user's name goes with the last session that held it", async () => {
    const old = NOW - 40 * DAY;
    const recent = NOW - DAY;
    await site.db.batch(
      sessionRowsStatements([
        { client: "gone-pc", id: "a/1", user: "gone.user", start: old, end: old + 1000 },
        { client: "kept-pc", id: "a/2", user: "gone.user", start: old, end: old + 1000 },
        { client: "kept-pc", id: "a/3", user: "kept.user", start: recent, end: recent + 1000 },
      ]),
      "write",
    );
    const names = async () => ({
      clients: (await site.db.execute("SELECT client_id FROM session_clients ORDER BY 1")).rows
        .map((r) => r.client_id),
      users: (await site.db.execute("SELECT user_name FROM session_users ORDER BY 1")).rows
        .map((r) => r.user_name),
    });
    expect(await names()).toEqual({
      clients: ["c1", "gone-pc", "kept-pc"],
      users: ["ann", "gone.user", "kept.user"],
    });
    await runMaintenance(site.db, site.lock, site.settings, NOW);
    // c1 and ann still have the recent and running sessions of the test before.
    expect(await names()).toEqual({ clients: ["c1", "kept-pc"], users: ["ann", "kept.user"] });
    expect(await count("SELECT count(*) FROM usage_sessions WHERE client_id = 'kept-pc'")).toBe(1);
  });

  test("summary documents past summary retention go, with their chunks and sync states", async () => {
    const doc = (day: string, shard: number) => summaryDocId("S01", day, shard);
    const old = [doc("2025-01-01", 0), doc("2025-01-01", 1), summaryDocId("CHA", "2025-06-30", 0)];
    const recent = [doc("2026-11-20", 0), summaryDocId("CHA", "2026-11-26", 3)];
    for (const id of [...old, ...recent]) {
      await site.docs.save(
        id,
        A.change(A.init<Record<string, string>>(), (d) => {
          d.x = "1";
        }),
      );
      await site.db.batch([site.states.saveStatement("parent", id, A.initSyncState())], "write");
    }
    const forgotten: string[] = [];
    const result = await runMaintenance(
      site.db,
      site.lock,
      site.settings,
      NOW,
      (id) => forgotten.push(id),
    );
    expect(result.summaryDocs).toBe(3);
    expect(forgotten.sort()).toEqual([...old].sort());
    expect((await site.docs.list("summary/")).map((d) => d.docId).sort()).toEqual(
      [...recent].sort(),
    );
    const states = await count("SELECT count(*) FROM sync_states WHERE doc_id LIKE 'summary/%'");
    expect(states).toBe(2);
    const chunks = await count(
      "SELECT count(*) FROM doc_chunks WHERE doc_id NOT IN (SELECT doc_id FROM docs)",
    );
    expect(chunks).toBe(0);
  });
});
