/**
 * The UTC days whose summary documents are out of date: the summariser adds
 * every day it recomputes (in the transaction that stores the figures), and
 * the publisher rewrites those days' documents before a site syncs with its
 * parent, then takes them out, but only if no run marked them again
 * meanwhile (`version`), so an update that lands while a day is published is
 * published next time. A top site, which has no parent, keeps a short list of
 * days here and nothing more.
 *
 * @module
 */
import type { InStatement } from "../../store/db.ts";

export const summaryOutboxSchema = [
  `CREATE TABLE IF NOT EXISTS summary_outbox (
    day TEXT PRIMARY KEY,
    version INTEGER NOT NULL DEFAULT 1
  )`,
] as const;

export function markDaysStatement(days: Iterable<string>): InStatement {
  return {
    sql: `INSERT INTO summary_outbox (day) SELECT value FROM json_each(?) WHERE true
      ON CONFLICT (day) DO UPDATE SET version = version + 1`,
    args: [JSON.stringify([...days])],
  };
}

/** After a rebuild: every day any summary holds, or any summary document held. */
export const markAllDaysStatement: InStatement = {
  sql: `INSERT INTO summary_outbox (day)
    SELECT DISTINCT day FROM daily_usage
    UNION SELECT DISTINCT local_date FROM local_hour_users
    UNION SELECT DISTINCT strftime('%Y-%m-%d', hour_ms / 1000, 'unixepoch') FROM hourly_usage
    UNION SELECT day FROM summary_doc_shards WHERE true
    ON CONFLICT (day) DO UPDATE SET version = version + 1`,
  args: [],
};
