/**
 * A site database made before local-hour users were kept per time zone is
 * moved over when opened: `local_hour_users` and `site_local_hour_users`
 * are made again with the zone in their key, `local_presence` gains the
 * zone (and later moves into `local_user_hours`), and every row they held
 * reads as UTC (how the time-of-day report
 * took every row then). Opening it again changes nothing more.
 */
import { createClient } from "@libsql/client";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { openSiteDatabase } from "../site/site_db.ts";
import { tempDir } from "./helpers/metered_program.ts";

const OLD_TABLES = [
  `CREATE TABLE local_presence (
    rule_id TEXT NOT NULL,
    local_date TEXT NOT NULL,
    local_hour INTEGER NOT NULL,
    user_name TEXT NOT NULL,
    client_id TEXT NOT NULL,
    utc_day TEXT NOT NULL,
    PRIMARY KEY (rule_id, local_date, local_hour, user_name, client_id, utc_day)
  ) WITHOUT ROWID`,
  `CREATE TABLE local_hour_users (
    rule_id TEXT NOT NULL,
    local_date TEXT NOT NULL,
    local_hour INTEGER NOT NULL,
    weekday INTEGER NOT NULL,
    users INTEGER NOT NULL,
    PRIMARY KEY (rule_id, local_date, local_hour)
  ) WITHOUT ROWID`,
  `CREATE TABLE site_local_hour_users (
    site_code TEXT NOT NULL,
    rule_id TEXT NOT NULL,
    local_date TEXT NOT NULL,
    local_hour INTEGER NOT NULL,
    weekday INTEGER NOT NULL,
    users INTEGER NOT NULL,
    PRIMARY KEY (rule_id, local_date, local_hour, site_code)
  ) WITHOUT ROWID`,
  "INSERT INTO local_presence VALUES ('S01-1', '2026-11-20', 9, 'ann', 'c1', '2026-11-20')",
  "INSERT INTO local_hour_users VALUES ('S01-1', '2026-11-20', 9, 5, 1)",
  "INSERT INTO site_local_hour_users VALUES ('CHA', 'S01-1', '2026-11-20', 9, 5, 3)",
];

describe("local-hour tables made before time zones were kept", () => {
  let temp: Awaited<ReturnType<typeof tempDir>>;
  let path: string;

  beforeAll(async () => {
    temp = await tempDir("meter-zoned-cells-");
    path = `${temp.dir}/old.db`;
    const old = createClient({ url: `file:${path}` });
    await old.batch(OLD_TABLES, "write");
    old.close();
  });

  afterAll(async () => {
    await temp?.remove();
  });

  const rows = async (db: Awaited<ReturnType<typeof openSiteDatabase>>, sql: string) =>
    (await db.execute(sql)).rows.map((r) => ({ ...r }));

  async function expectMovedOver(db: Awaited<ReturnType<typeof openSiteDatabase>>) {
    // Presence has since moved into users' hours (step 4): hour 9 is bit 9.
    expect(await rows(db, "SELECT user_name, time_zone, hours FROM local_user_hours")).toEqual([
      { user_name: "ann", time_zone: "UTC", hours: 2 ** 9 },
    ]);
    expect(await rows(db, "SELECT * FROM local_hour_users")).toEqual([
      {
        rule_id: "S01-1",
        local_date: "2026-11-20",
        local_hour: 9,
        weekday: 5,
        users: 1,
        time_zone: "UTC",
      },
    ]);
    expect(await rows(db, "SELECT site_code, users, time_zone FROM site_local_hour_users"))
      .toEqual([{ site_code: "CHA", users: 3, time_zone: "UTC" }]);
  }

  test("the rows read as UTC, and the zone is part of the key", async () => {
    const db = await openSiteDatabase(path);
    try {
      await expectMovedOver(db);
      // The same cell in another zone is another row.
      await db.execute(
        "INSERT INTO local_hour_users VALUES ('S01-1', '2026-11-20', 9, 5, 2, 'Pacific/Auckland')",
      );
      await db.execute(
        `INSERT INTO site_local_hour_users VALUES
          ('CHA', 'S01-1', '2026-11-20', 9, 5, 4, 'Pacific/Auckland')`,
      );
      await db.execute("DELETE FROM local_hour_users WHERE time_zone <> 'UTC'");
      await db.execute("DELETE FROM site_local_hour_users WHERE time_zone <> 'UTC'");
    } finally {
      db.close();
    }
    const again = await openSiteDatabase(path);
    try {
      await expectMovedOver(again);
    } finally {
      again.close();
    }
  });
});
