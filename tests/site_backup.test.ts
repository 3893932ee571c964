/**
 * `meter site backup` and `meter site restore` as an operator runs them, on
 * real libSQL files and real site processes on loopback.
 *
 * A backup taken while eight fake agents sync as fast as the site answers
 * holds every session the site acknowledged (HTTP 200) before the backup
 * began, restores to a database SQLite finds nothing wrong in, and a site
 * started on it serves those sessions to the old admin token. A restore is
 * refused while the site runs, and for a newer or a non-database backup, each
 * leaving the database as it was; a backup does not replace a file without
 * --force; a restore over a stopped site keeps the replaced database aside.
 */
import { createClient } from "@libsql/client";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { join } from "node:path";
import { dayOf, usageDocId } from "../model/doc_id.ts";
import { integrityProblems } from "../store/database_copy.ts";
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
import { databaseValue } from "./helpers/database_rows.ts";
import { meter } from "./helpers/meter_cli.ts";
import { type SiteHandle, startSite } from "./helpers/meter_process.ts";
import { tempDir } from "./helpers/metered_program.ts";
import { makeToken, sessions } from "./helpers/site_api.ts";
import { waitFor } from "./helpers/wait_for.ts";

const AGENTS = 8;
const HOUR = 3_600_000;

/** One fake agent syncing a growing usage document in a loop, noting what the site acknowledged. */
class SyncingAgent {
  #doc: RecordDoc;
  #next = 1;
  readonly #day: string;
  readonly #start: number;

  constructor(readonly agent: { url: string; fake: FakeAgent }, readonly acked: Set<string>) {
    this.#doc = newRecordDoc(agent.fake.actor);
    this.#start = Date.now() - 6 * HOUR;
    this.#day = dayOf(this.#start);
  }

  async run(stopped: () => boolean): Promise<void> {
    while (!stopped()) {
      const ids = [1, 2, 3].map(() => `${this.#day}/${this.#next++}`);
      this.#doc = writeSessions(
        this.#doc,
        this.#day,
        ids.map((id, i) =>
          session({
            id,
            ruleId: "S01-1",
            user: "ann",
            start: this.#start + i,
            end: this.#start + HOUR,
          })
        ),
      );
      const sent = await sendBatch(this.agent.url, this.agent.fake, [
        itemFor(usageDocId(this.agent.fake.clientId, this.#day), this.#doc),
      ]);
      if (sent.status !== 200) throw new Error(`sync: ${sent.status} ${sent.error?.message}`);
      for (const id of ids) this.acked.add(`${this.agent.fake.clientId} ${id}`);
    }
  }
}

async function sessionKeys(file: string): Promise<Set<string>> {
  const db = createClient({ url: `file:${file}` });
  try {
    const rows = await db.execute("SELECT client_id, session_id FROM usage_sessions");
    return new Set(rows.rows.map((r) => `${r.client_id} ${r.session_id}`));
  } finally {
    db.close();
  }
}

const exists = (path: string) => Deno.stat(path).then(() => true, () => false);

/** Whether a replaced database was set aside in `dir`. */
async function setAside(dir: string): Promise<boolean> {
  for await (const entry of Deno.readDir(dir)) {
    if (entry.name.includes("before-restore")) return true;
  }
  return false;
}

describe("site backup and restore", () => {
  let temp: Awaited<ReturnType<typeof tempDir>>;
  let site: SiteHandle;
  let admin: string;
  let backup: string;
  const acked = new Set<string>();
  let ackedBeforeBackup: Set<string>;

  beforeAll(async () => {
    temp = await tempDir("meter-backup-");
    site = await startSite(join(temp.dir, "a"));
    admin = await makeToken(site.db, "admin");
    backup = join(temp.dir, "backup.db");
  });

  afterAll(async () => {
    await site?.process.stop();
    await temp?.remove();
  });

  test("a backup during heavy sync holds every acknowledged session and restores", async () => {
    const enroll = await makeToken(site.db, "enroll", AGENTS);
    const agents = await Promise.all(
      Array.from({ length: AGENTS }, async () => ({
        url: site.url,
        fake: await enrollFakeAgent(site.url, enroll),
      })),
    );
    let stop = false;
    let failed: unknown;
    const loops = agents.map((agent) =>
      new SyncingAgent(agent, acked).run(() => stop).catch((error) => {
        failed ??= error;
      })
    );
    const ackedAtLeast = (n: number) => () => {
      if (failed) throw failed;
      return acked.size >= n;
    };
    try {
      await waitFor("sessions acknowledged before the backup", ackedAtLeast(300));
      ackedBeforeBackup = new Set(acked);
      const backedUp = await meter(["site", "backup", "--db", site.db, "--to", backup]);
      expect(backedUp.code, backedUp.stderr).toBe(0);
      expect(backedUp.stdout).toMatch(/^backed up .* sessions, schema version \d+, in /);
      // The agents went on syncing while the backup ran.
      expect(acked.size).toBeGreaterThan(ackedBeforeBackup.size);
      const after = acked.size;
      await waitFor("sessions acknowledged after the backup", ackedAtLeast(after + 60));
    } finally {
      stop = true;
      await Promise.all(loops);
    }
    expect(failed).toBeUndefined();
    expect((await Deno.stat(backup)).mode! & 0o777).toBe(0o600);

    const restoredDir = join(temp.dir, "b");
    const restoredDb = join(restoredDir, "site-S01.db");
    const restored = await meter(["site", "restore", "--db", restoredDb, "--from", backup]);
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stdout).toContain("there was no database there before");
    expect((await Deno.stat(restoredDb)).mode! & 0o777).toBe(0o600);
    expect(await integrityProblems(restoredDb)).toEqual([]);
    const kept = await sessionKeys(restoredDb);
    const missing = [...ackedBeforeBackup].filter((key) => !kept.has(key));
    expect(missing).toEqual([]);

    const restoredSite = await startSite(restoredDir);
    try {
      const served = await sessions(restoredSite.url, admin);
      const servedKeys = new Set(served.map((s) => `${s.clientId} ${s.id}`));
      expect([...ackedBeforeBackup].filter((key) => !servedKeys.has(key))).toEqual([]);
    } finally {
      await restoredSite.process.stop();
    }
  });

  test("a restore is refused while the site runs, and changes nothing", async () => {
    const { ino } = await Deno.stat(site.db);
    const refused = await meter(["site", "restore", "--db", site.db, "--from", backup]);
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim().split("\n")).toHaveLength(1);
    expect(refused.stderr).toContain("is open in another process");
    expect((await Deno.stat(site.db)).ino).toBe(ino);
    expect(await setAside(join(temp.dir, "a"))).toBe(false);
    expect((await sessions(site.url, admin)).length).toBeGreaterThan(0);
  });

  test("a backup does not replace a file without --force, nor the database ever", async () => {
    const bytes = await Deno.readFile(backup);
    const refused = await meter(["site", "backup", "--db", site.db, "--to", backup]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("exists already; give --force");
    expect(await Deno.readFile(backup)).toEqual(bytes);
    const forced = await meter(["site", "backup", "--db", site.db, "--to", backup, "--force"]);
    expect(forced.code, forced.stderr).toBe(0);
    const { ino } = await Deno.stat(site.db);
    const itself = await meter(["site", "backup", "--db", site.db, "--to", site.db, "--force"]);
    expect(itself.code).toBe(1);
    expect(itself.stderr).toContain("is the database itself");
    expect((await Deno.stat(site.db)).ino).toBe(ino);
  });

  test("usage errors exit 2, a libSQL server is refused with exit 1", async () => {
    const noTarget = await meter(["site", "backup", "--db", site.db]);
    expect(noTarget.code).toBe(2);
    expect(noTarget.stderr).toContain("--to is required");
    const noSource = await meter(["site", "restore", "--db", site.db]);
    expect(noSource.code).toBe(2);
    expect(noSource.stderr).toContain("--from is required");
    const server = await meter(["site", "backup", "--db", "libsql://db.example", "--to", backup]);
    expect(server.code).toBe(1);
    expect(server.stderr.trim().split("\n")).toHaveLength(1);
    expect(server.stderr).toContain("use the server's own backup");
  });

  describe("with the site stopped", () => {
    /** The database and its write-ahead log, if the stopped site left one. */
    const files = async () => ({
      db: await Deno.readFile(site.db),
      wal: await Deno.readFile(`${site.db}-wal`).catch(() => undefined),
    });
    let before: Awaited<ReturnType<typeof files>>;

    beforeAll(async () => {
      await site.process.stop();
      before = await files();
    });

    async function expectRefused(from: string, message: string) {
      const refused = await meter(["site", "restore", "--db", site.db, "--from", from]);
      expect(refused.code).toBe(1);
      expect(refused.stderr.trim().split("\n")).toHaveLength(1);
      expect(refused.stderr).toContain(message);
      expect(await files()).toEqual(before);
      expect(await setAside(join(temp.dir, "a"))).toBe(false);
    }

    test("a backup of a newer Meter is refused", async () => {
      const newer = join(temp.dir, "newer.db");
      await Deno.copyFile(backup, newer);
      const db = createClient({ url: `file:${newer}` });
      await db.execute("PRAGMA user_version = 99");
      db.close();
      await expectRefused(newer, "was written by a newer Meter (schema version 99;");
    });

    test("a file that is not a database is refused", async () => {
      const junk = join(temp.dir, "junk.db");
      await Deno.writeTextFile(junk, "not a database, only text\n".repeat(200));
      await expectRefused(junk, "is not a Meter site database");
    });

    test("a restore over the stopped site keeps the replaced database aside", async () => {
      const sessionsBefore = await databaseValue(site.db, "SELECT count(*) FROM usage_sessions");
      const restored = await meter(["site", "restore", "--db", site.db, "--from", backup]);
      expect(restored.code, restored.stderr).toBe(0);
      const aside = /kept at (\S+)/.exec(restored.stdout)?.[1];
      expect(aside).toMatch(/site-S01\.db\.before-restore-\d{8}T\d{6}Z$/);
      expect(await databaseValue(aside!, "SELECT count(*) FROM usage_sessions"))
        .toBe(sessionsBefore);
      expect((await Deno.stat(site.db)).mode! & 0o777).toBe(0o600);
      expect(await exists(`${site.db}-shm`)).toBe(false);
      expect(await integrityProblems(site.db)).toEqual([]);
    });
  });
});
