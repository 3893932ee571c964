/**
 * Retention: raw sessions that ended more than `rawRetentionDays` ago, and
 * summaries older than `summaryRetentionDays`, are deleted in batches of a
 * few thousand rows, each its own short transaction under the write lock,
 * so ingest never waits behind a long delete.
 *
 * Local-hour presence, needed only to recount days whose raw sessions still
 * exist, goes with the raw sessions.
 *
 * @module
 */
import type { Client } from "../sync/db.ts";
import { dayOf } from "../sync/doc_id.ts";
import type { Mutex } from "../sync/mutex.ts";
import type { SiteSettings } from "./site_settings.ts";

const BATCH = 5_000;
const DAY_MS = 86_400_000;

export interface MaintenanceResult {
  rawSessions: number;
  summaryRows: number;
}

export async function runMaintenance(
  db: Client,
  lock: Mutex,
  settings: SiteSettings,
  now = Date.now(),
): Promise<MaintenanceResult> {
  const raw = now - settings.rawRetentionDays * DAY_MS;
  const kept = now - settings.summaryRetentionDays * DAY_MS;
  const deletes: [string, unknown[]][] = [
    [
      `DELETE FROM usage_sessions WHERE rowid IN (SELECT rowid FROM usage_sessions
        WHERE start_ms < ? AND end_ms < ? LIMIT ${BATCH})`,
      [raw, raw],
    ],
    [
      `DELETE FROM local_presence WHERE (rule_id, local_date, local_hour, user_name, client_id,
        utc_day) IN (SELECT rule_id, local_date, local_hour, user_name, client_id, utc_day
        FROM local_presence WHERE utc_day < ? LIMIT ${BATCH})`,
      [dayOf(raw)],
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
      `DELETE FROM local_hour_users WHERE (rule_id, local_date, local_hour) IN
        (SELECT rule_id, local_date, local_hour FROM local_hour_users WHERE local_date < ?
        LIMIT ${BATCH})`,
      [dayOf(kept)],
    ],
  ];
  const result: MaintenanceResult = { rawSessions: 0, summaryRows: 0 };
  for (const [index, [sql, args]] of deletes.entries()) {
    const deleted = await deleteInBatches(db, lock, sql, args);
    if (index === 0) result.rawSessions += deleted;
    else result.summaryRows += deleted;
  }
  return result;
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
