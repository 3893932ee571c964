/**
 * `deno task bench --backup-only`: what a site database of realistic size
 * costs to back up and to migrate.
 *
 * - `VACUUM INTO`, the copy `meter site backup` makes, next to a plain
 *   `Deno.copyFile` of the same file, which is the floor for moving those
 *   bytes (and no backup of a live site); and the whole backup (the copy, an
 *   integrity check, an fsync) next to the copy alone;
 * - opening an unversioned database of the shape before client secrets and a
 *   session's language (so every first step has work to do), next to opening
 *   the same database already at the latest version.
 *
 * The data set is the summaries benchmark's fleet, smaller: about 300,000
 * sessions by default, written once and copied for each figure.
 *
 * @module
 */
import { join } from "node:path";
import { createClient } from "@libsql/client";
import { type BenchFigure, progress, round } from "./bench_figure.ts";
import { Fleet } from "./usage_fleet.ts";
import { writeUsageHistory } from "./usage_dataset.ts";
import { dataEnd } from "./summaries_bench.ts";
import { backupSiteDatabase, openSiteDatabase } from "../site/mod.ts";
import { KeyValueTable } from "../store/key_value_table.ts";
import { syncFile, vacuumInto } from "../store/database_copy.ts";

export interface BackupBenchOptions {
  clients?: number;
  days?: number;
}

/** Runs the backup and migration figures. */
export async function benchBackup(options: BackupBenchOptions = {}): Promise<BenchFigure[]> {
  const { clients = 500, days = 30 } = options;
  const dir = await Deno.makeTempDir({ prefix: "meter-bench-backup-" });
  try {
    const path = join(dir, "site.db");
    const sessions = await writeDataSet(path, clients, days);
    const mib = round((await Deno.stat(path)).size / 2 ** 20, 1);
    progress(`backup: ${sessions} sessions, ${mib} MiB`);
    const size = `${round(sessions / 1000, 0)}k sessions, ${mib} MiB`;
    return [...await backupFigures(path, dir, size), await migrationFigure(path, dir, size)];
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function writeDataSet(path: string, clients: number, days: number): Promise<number> {
  const fleet = new Fleet({ clients, rules: 20, sessionsPerClientDay: 20, seed: 20_261_204 });
  const db = await openSiteDatabase(path);
  try {
    await new KeyValueTable(db, "site_meta").set("code", "S01");
    const written = await writeUsageHistory(db, fleet, {
      end: dataEnd(Date.now()),
      days,
      lateEvery: 0,
      lateDays: 0,
    });
    await db.execute("PRAGMA wal_checkpoint(TRUNCATE)");
    return written.sessions;
  } finally {
    db.close();
  }
}

/**
 * The copy alone next to a file copy, and the whole backup next to the copy
 * alone: the rest is the integrity check, which reads every page and index.
 */
async function backupFigures(path: string, dir: string, size: string): Promise<BenchFigure[]> {
  const copy = join(dir, "plain-copy.db");
  let started = performance.now();
  await Deno.copyFile(path, copy);
  const copyMs = performance.now() - started;
  await Deno.remove(copy);
  const vacuumed = join(dir, "vacuumed.db");
  started = performance.now();
  await vacuumInto(path, vacuumed);
  const vacuumMs = performance.now() - started;
  await Deno.remove(vacuumed);
  started = performance.now();
  await backupSiteDatabase(path, join(dir, "backup.db"));
  const backupMs = performance.now() - started;
  return [
    {
      name: `VACUUM INTO alone (one consistent snapshot), ${size}`,
      value: round(vacuumMs, 0),
      unit: "ms",
      baseline: { name: "Deno.copyFile of the file", value: round(copyMs, 0) },
    },
    {
      name: `meter site backup (VACUUM INTO, integrity_check, fsync), ${size}`,
      value: round(backupMs, 0),
      unit: "ms",
      baseline: { name: "VACUUM INTO alone", value: round(vacuumMs, 0) },
    },
  ];
}

async function migrationFigure(path: string, dir: string, size: string): Promise<BenchFigure> {
  const current = join(dir, "current.db");
  await Deno.copyFile(path, current);
  const old = join(dir, "old.db");
  await Deno.copyFile(path, old);
  await makeUnversioned(old);
  // Else the first open's checkpoint would pay for flushing the fresh copy's pages.
  await syncFile(current);
  await syncFile(old);
  let started = performance.now();
  (await openSiteDatabase(current)).close();
  const openMs = performance.now() - started;
  started = performance.now();
  (await openSiteDatabase(old)).close();
  const migrateMs = performance.now() - started;
  return {
    name: `opening an unversioned database (secrets in clients, names in sessions), ${size}`,
    value: round(migrateMs, 0),
    unit: "ms",
    baseline: { name: "opening it at the latest version", value: round(openMs, 0) },
  };
}

/**
 * Gives the copy the shape and version of a build before client secrets and
 * languages, whose sessions held their names and program strings.
 */
async function makeUnversioned(file: string): Promise<void> {
  const db = createClient({ url: `file:${file}` });
  try {
    await db.batch([
      "DROP INDEX IF EXISTS client_actors_by_client",
      `CREATE TABLE old_sessions AS SELECT s.client_id, s.session_id, s.rule_id, s.user_name,
        p.exe, p.argv0, p.version, s.pid, s.start_ms, s.end_ms, s.start_not_captured,
        s.end_not_captured, s.remote, s.updated_at, s.clock_offset_ms
        FROM usage_sessions s JOIN session_programs p ON p.id = s.program_id`,
      "DROP VIEW usage_sessions",
      "DROP TABLE session_rows",
      "DROP TABLE session_clients",
      "DROP TABLE session_users",
      "DROP TABLE session_programs",
      "ALTER TABLE old_sessions RENAME TO usage_sessions",
      "ALTER TABLE clients ADD COLUMN secret_hash TEXT NOT NULL DEFAULT 'hash'",
      "DROP TABLE client_secrets",
      "PRAGMA user_version = 0",
    ], "write");
    await db.execute("VACUUM");
  } finally {
    db.close();
  }
}
