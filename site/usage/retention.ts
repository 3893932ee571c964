/**
 * Retention: raw sessions that ended more than `rawRetentionDays` ago, and
 * summaries older than `summaryRetentionDays`, are deleted in batches of a
 * few thousand rows, each its own short transaction under the write lock,
 * so ingest never waits behind a long delete.
 *
 * Users' local hours (`local_user_hours`), needed only to recount days whose
 * raw sessions still exist, go with the raw sessions. Summary documents (this site's own and
 * those of the sites below), and the per-site rows of the sites below, go
 * with the summaries, so a site's sync with its parent does not list a
 * growing number of documents year after year.
 *
 * @module
 */
import type { Client } from "../../store/db.ts";
import { dayOf } from "../../model/doc_id.ts";
import type { Mutex } from "../../lib/mutex.ts";
import type { SiteSettings } from "../site_settings.ts";
import { deleteEndedBeforeStatement, deleteUnusedNamesStatements } from "./sessions_table.ts";

const BATCH = 5_000;
const DAY_MS = 86_400_000;

export interface MaintenanceResult {
  rawSessions: number;
  summaryRows: number;
  /** Summary documents past summary retention. */
  summaryDocs: number;
}

/**
 * `forget` is told each document deleted, so that the site's document cache
 * drops it too (a cached document whose stored rows are gone must not be
 * saved upon).
 */
export async function runMaintenance(
  db: Client,
  lock: Mutex,
  settings: SiteSettings,
  now = Date.now(),
  forget: (docId: string) => void = () => {},
): Promise<MaintenanceResult> {
  const raw = now - settings.rawRetentionDays * DAY_MS;
  const kept = now - settings.summaryRetentionDays * DAY_MS;
  const expiredSessions = deleteEndedBeforeStatement(raw, BATCH);
  const deletes: [string, unknown[]][] = [
    [expiredSessions.sql, expiredSessions.args],
    // A user's hours on a local date before the first UTC day with raw
    // sessions can no longer change: their cells are final.
    [
      `DELETE FROM local_user_hours WHERE (rule_id, local_date, time_zone, user_name) IN
        (SELECT rule_id, local_date, time_zone, user_name FROM local_user_hours
        WHERE local_date < ? LIMIT ${BATCH})`,
      [dayOf(raw - DAY_MS)],
    ],
    [
      `DELETE FROM hourly_usage WHERE (rule_id, hour_ms) IN
        (SELECT rule_id, hour_ms FROM hourly_usage WHERE hour_ms < ? LIMIT ${BATCH})`,
      [kept],
    ],
    [
      `DELETE FROM daily_usage WHERE (client_id, day, rule_id, user_name) IN
        (SELECT client_id, day, rule_id, user_name FROM daily_usage WHERE day < ? LIMIT ${BATCH})`,
      [dayOf(kept)],
    ],
    [
      `DELETE FROM monthly_usage WHERE (rule_id, month, user_name, client_id) IN
        (SELECT rule_id, month, user_name, client_id FROM monthly_usage WHERE month < ?
        LIMIT ${BATCH})`,
      [dayOf(kept).slice(0, 7)],
    ],
    [
      `DELETE FROM monthly_totals WHERE (rule_id, month) IN
        (SELECT rule_id, month FROM monthly_totals WHERE month < ? LIMIT ${BATCH})`,
      [dayOf(kept).slice(0, 7)],
    ],
    [
      `DELETE FROM local_hour_users WHERE (rule_id, local_date, local_hour, time_zone) IN
        (SELECT rule_id, local_date, local_hour, time_zone FROM local_hour_users
        WHERE local_date < ? LIMIT ${BATCH})`,
      [dayOf(kept)],
    ],
    ...[
      ["licence_day_curves", "licence_id, day, site_code"],
      ["licence_day_peaks", "licence_id, day"],
    ].map(([table, key]): [string, unknown[]] => [
      `DELETE FROM ${table} WHERE (${key}) IN
        (SELECT ${key} FROM ${table} WHERE day < ? LIMIT ${BATCH})`,
      [dayOf(kept)],
    ]),
    [
      `DELETE FROM licence_events WHERE id IN
        (SELECT id FROM licence_events WHERE at < ? LIMIT ${BATCH})`,
      [kept],
    ],
    [
      `DELETE FROM webhook_outbox WHERE event_id IN (SELECT event_id FROM webhook_outbox
        WHERE coalesce(delivered_at, failed_at) < ? LIMIT ${BATCH})`,
      [kept],
    ],
    [
      `DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE at < ? LIMIT ${BATCH})`,
      [kept],
    ],
    [
      `DELETE FROM site_hourly_usage WHERE (site_code, rule_id, hour_ms) IN
        (SELECT site_code, rule_id, hour_ms FROM site_hourly_usage WHERE hour_ms < ?
        LIMIT ${BATCH})`,
      [kept],
    ],
    [
      `DELETE FROM site_local_hour_users
        WHERE (rule_id, local_date, local_hour, time_zone, site_code) IN
        (SELECT rule_id, local_date, local_hour, time_zone, site_code FROM site_local_hour_users
        WHERE local_date < ? LIMIT ${BATCH})`,
      [dayOf(kept)],
    ],
  ];
  const result: MaintenanceResult = { rawSessions: 0, summaryRows: 0, summaryDocs: 0 };
  for (const [index, [sql, args]] of deletes.entries()) {
    const deleted = await deleteInBatches(db, lock, sql, args);
    if (index === 0) result.rawSessions += deleted;
    else result.summaryRows += deleted;
  }
  // The names of computers and users no session names any more go too, so
  // that a name is not kept longer than the sessions that held it.
  for (const sql of deleteUnusedNamesStatements(BATCH)) await deleteInBatches(db, lock, sql, []);
  result.summaryDocs = await deleteOldSummaryDocs(db, lock, dayOf(kept), forget);
  return result;
}

/**
 * Summary documents of days before `day`, a few hundred at a time: the
 * document, its chunks and its sync states together, and the day's shard
 * count. (`summary/<site>/<day>/<shard>`: the day starts at character 13.)
 */
async function deleteOldSummaryDocs(
  db: Client,
  lock: Mutex,
  day: string,
  forget: (docId: string) => void,
): Promise<number> {
  let total = 0;
  for (;;) {
    const deleted = await lock.run(async () => {
      const found = await db.execute({
        sql: `SELECT doc_id FROM docs WHERE doc_id >= 'summary/' AND doc_id < 'summary0'
          AND substr(doc_id, 13, 10) < ? LIMIT 500`,
        args: [day],
      });
      if (found.rows.length === 0) return 0;
      const ids = JSON.stringify(found.rows.map((r) => r.doc_id));
      const inIds = "doc_id IN (SELECT value FROM json_each(?))";
      await db.batch([
        { sql: `DELETE FROM doc_chunks WHERE ${inIds}`, args: [ids] },
        { sql: `DELETE FROM sync_states WHERE ${inIds}`, args: [ids] },
        { sql: `DELETE FROM docs WHERE ${inIds}`, args: [ids] },
        { sql: "DELETE FROM summary_doc_shards WHERE day < ?", args: [day] },
      ], "write");
      for (const row of found.rows) forget(row.doc_id as string);
      return found.rows.length;
    });
    total += deleted;
    if (deleted < 500) return total;
  }
}

async function deleteInBatches(
  db: Client,
  lock: Mutex,
  sql: string,
  args: unknown[],
): Promise<number> {
  let total = 0;
  for (;;) {
    const result = await lock.run(() => db.execute({ sql, args: args as never }));
    total += result.rowsAffected;
    if (result.rowsAffected < BATCH) return total;
  }
}
