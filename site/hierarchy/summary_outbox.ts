/**
 * The UTC days whose summary documents are out of date: the summariser adds
 * every day it recomputes (in the transaction that stores the figures), and
 * the publisher rewrites those days' documents before a site syncs with its
 * parent, then takes them out. A top site, which has no parent, keeps a
 * short list of days here and nothing more.
 *
 * @module
 */
import type { InStatement } from "../../sync/db.ts";

export const summaryOutboxSchema = [
  `CREATE TABLE IF NOT EXISTS summary_outbox (day TEXT PRIMARY KEY)`,
] as const;

export function markDaysStatement(days: Iterable<string>): InStatement {
  return {
    sql: "INSERT OR IGNORE INTO summary_outbox (day) SELECT value FROM json_each(?)",
    args: [JSON.stringify([...days])],
  };
}

/** After a rebuild: every day any summary holds. */
export const markAllDaysStatement: InStatement = {
  sql: `INSERT OR IGNORE INTO summary_outbox (day)
    SELECT DISTINCT day FROM daily_usage
    UNION SELECT DISTINCT local_date FROM local_hour_users
    UNION SELECT DISTINCT strftime('%Y-%m-%d', hour_ms / 1000, 'unixepoch') FROM hourly_usage`,
  args: [],
};
