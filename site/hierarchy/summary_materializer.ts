/**
 * Summary documents of the sites below into this site's tables, so that its
 * reports cover every client of its subtree:
 *
 * - daily records (`d/...`) join `daily_usage` itself, and the months they
 *   touch are queued (`months_pending`) for the summariser, which recomputes
 *   their monthly rows and totals from it at its next run (within
 *   `summarizeIntervalSeconds`), outside the sync's transaction, as it does
 *   for this site's own clients; so `computers-ran`,
 *   `users-ran`, `total-usage`, `remote-usage`, `unused` need nothing more.
 *   Rows are guarded: a record naming one of this site's own clients, or a
 *   client another site reported first, changes nothing.
 * - client records (`c/...`) give those clients' host names and time zones
 *   (`descendant_clients`).
 * - licence records go to the licence figures of that site: counts
 *   (`p/...`) to `licence_site_figures`, unless a newer day's are there
 *   already, and a concurrent licence's curve of the day (`k/...`) to
 *   `licence_day_curves`, whose day peak is then computed again at the next
 *   licence refresh (`licences/licence_refresher.ts`).
 * - hourly records (`h/...`) go to `site_hourly_usage` and local-hour records
 *   (`l/...`) to `site_local_hour_users`, per site (and per time zone, as
 *   the site kept them): peaks and distinct users of different sites cannot
 *   be merged, so concurrency and time-of-day reports show them per site and
 *   summed.
 *
 * @module
 */
import { HOURLY_FIGURES } from "../summaries/summary_schema.ts";
import type * as A from "@automerge/automerge";
import type { ChangedKeys } from "../../store/changed_keys.ts";
import type { InStatement } from "../../store/db.ts";
import { decodeSummaryRecord, parseSummaryKey, type SummaryRecord } from "./summary_record.ts";
import { isOwnClient } from "../clients/clients_table.ts";

/** The local-hour users of the sites below, per site and time zone. */
export const SITE_LOCAL_HOUR_USERS_TABLE = `CREATE TABLE IF NOT EXISTS site_local_hour_users (
    site_code TEXT NOT NULL,
    rule_id TEXT NOT NULL,
    local_date TEXT NOT NULL,
    local_hour INTEGER NOT NULL,
    weekday INTEGER NOT NULL,
    users INTEGER NOT NULL,
    time_zone TEXT NOT NULL,
    PRIMARY KEY (rule_id, local_date, local_hour, time_zone, site_code)
  ) WITHOUT ROWID`;

export const descendantSummarySchema = [
  `CREATE TABLE IF NOT EXISTS site_hourly_usage (
    site_code TEXT NOT NULL,
    rule_id TEXT NOT NULL,
    hour_ms INTEGER NOT NULL,
    ${HOURLY_FIGURES},
    PRIMARY KEY (site_code, rule_id, hour_ms)
  ) WITHOUT ROWID`,
  `CREATE INDEX IF NOT EXISTS site_hourly_usage_by_rule ON site_hourly_usage (rule_id, hour_ms)`,
  SITE_LOCAL_HOUR_USERS_TABLE,
  `CREATE TABLE IF NOT EXISTS months_pending (
    month TEXT NOT NULL,
    client_id TEXT NOT NULL,
    rule_id TEXT NOT NULL,
    PRIMARY KEY (month, client_id, rule_id)
  ) WITHOUT ROWID`,
  `CREATE TABLE IF NOT EXISTS descendant_clients (
    client_id TEXT PRIMARY KEY,
    site_code TEXT NOT NULL,
    host_name TEXT NOT NULL,
    time_zone TEXT NOT NULL
  )`,
] as const;

/** The client is one this site may take rows of `site` for. */
const CLIENT_OF_SITE = `NOT ${isOwnClient("?1")}
  AND NOT EXISTS (SELECT 1 FROM descendant_clients WHERE client_id = ?1 AND site_code <> ?2)`;

/** The same, for the client id in `value ->> 0` of a `json_each` row; `?1` is the site. */
const ROW_CLIENT_OF_SITE = `NOT ${isOwnClient("value ->> 0")}
  AND NOT EXISTS (SELECT 1 FROM descendant_clients
    WHERE client_id = value ->> 0 AND site_code <> ?1)`;

export function summaryStatements(
  site: string,
  day: string,
  doc: A.Doc<unknown>,
  changed: ChangedKeys,
): InStatement[] {
  const records = doc as Record<string, unknown>;
  const statements: InStatement[] = [];
  const touched = new Set<string>();
  const touch = (clientId: string, ruleId: string) =>
    touched.add(`${day.slice(0, 7)} ${clientId} ${ruleId}`);
  const put: SummaryRecord[] = [];
  for (const key of changed.put) {
    const record = decodeSummaryRecord(key, records[key]);
    put.push(record);
    if (record.kind === "d") touch(record.clientId, record.ruleId);
  }
  statements.push(...putStatements(site, day, put));
  for (const key of changed.deleted) {
    const record = parseSummaryKey(key);
    statements.push(...deleteStatements(site, day, record));
    if (record.kind === "d") touch(record.clientId, record.ruleId);
  }
  const pending = [...touched].map((key) => key.split(" "));
  if (pending.length > 0) {
    statements.push({
      sql: `INSERT OR IGNORE INTO months_pending (month, client_id, rule_id)
        SELECT value ->> 0, value ->> 1, value ->> 2 FROM json_each(?)`,
      args: [JSON.stringify(pending)],
    });
  }
  return statements;
}

/**
 * The records put, one statement per kind: a document of thousands of
 * records is a handful of statements (each row read from a JSON array).
 */
function putStatements(site: string, day: string, records: SummaryRecord[]): InStatement[] {
  const rows = {
    h: [] as unknown[][],
    l: [] as unknown[][],
    c: [] as unknown[][],
    d: [] as unknown[][],
    p: [] as unknown[][],
    k: [] as unknown[][],
  };
  for (const r of records) {
    if (r.kind === "h") rows.h.push([r.ruleId, r.hourMs, ...r.values]);
    else if (r.kind === "l") {
      rows.l.push([r.ruleId, r.localDate, r.localHour, ...r.values, r.timeZone]);
    } else if (r.kind === "c") rows.c.push([r.clientId, ...r.values]);
    else if (r.kind === "p") rows.p.push([r.licenceId, ...r.values]);
    else if (r.kind === "k") rows.k.push([r.licenceId, JSON.stringify(r.values)]);
    else rows.d.push([r.clientId, r.ruleId, r.user, ...r.values]);
  }
  const fields = (n: number) => Array.from({ length: n }, (_, i) => `value ->> ${i}`).join(", ");
  const statements: InStatement[] = [];
  if (rows.h.length > 0) {
    statements.push({
      sql: `INSERT OR REPLACE INTO site_hourly_usage SELECT ?1, ${fields(13)} FROM json_each(?2)`,
      args: [site, JSON.stringify(rows.h)],
    });
  }
  if (rows.l.length > 0) {
    statements.push({
      sql: `INSERT OR REPLACE INTO site_local_hour_users (site_code, rule_id, local_date,
          local_hour, weekday, users, time_zone) SELECT ?1, ${fields(6)} FROM json_each(?2)`,
      args: [site, JSON.stringify(rows.l)],
    });
  }
  if (rows.c.length > 0) {
    statements.push({
      sql: `INSERT INTO descendant_clients (client_id, site_code, host_name, time_zone)
        SELECT value ->> 0, ?1, value ->> 1, value ->> 2 FROM json_each(?2)
        WHERE ${ROW_CLIENT_OF_SITE}
        ON CONFLICT (client_id) DO UPDATE SET host_name = excluded.host_name,
          time_zone = excluded.time_zone`,
      args: [site, JSON.stringify(rows.c)],
    });
  }
  if (rows.d.length > 0) {
    statements.push({
      sql: `INSERT OR REPLACE INTO daily_usage (client_id, day, rule_id, user_name, runs, run_ms,
          last_use_ms, remote_runs, remote_run_ms)
        SELECT value ->> 0, ?2, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5,
          value ->> 6, value ->> 7
        FROM json_each(?3) WHERE ${ROW_CLIENT_OF_SITE}`,
      args: [site, day, JSON.stringify(rows.d)],
    });
  }
  statements.push(...licenceStatements(site, day, rows.p, rows.k));
  return statements;
}

/** When a statement runs, in ms: what `changed_at` and `computed_at` of a row below say. */
const NOW_MS = "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)";

function licenceStatements(site: string, day: string, p: unknown[][], k: unknown[][]) {
  const statements: InStatement[] = [];
  if (p.length > 0) {
    statements.push({
      sql: `INSERT INTO licence_site_figures (licence_id, site_code, day, computed_at,
          window_from, installed, installed_used, used_computers, used_users, known_users)
        SELECT value ->> 0, ?1, ?2, ${NOW_MS}, value ->> 1, value ->> 2, value ->> 3,
          value ->> 4, value ->> 5, value ->> 6 FROM json_each(?3) WHERE true
        ON CONFLICT (licence_id, site_code) DO UPDATE SET day = excluded.day,
          computed_at = excluded.computed_at, window_from = excluded.window_from,
          installed = excluded.installed, installed_used = excluded.installed_used,
          used_computers = excluded.used_computers, used_users = excluded.used_users,
          known_users = excluded.known_users
        WHERE excluded.day >= licence_site_figures.day`,
      args: [site, day, JSON.stringify(p)],
    });
  }
  if (k.length > 0) {
    statements.push({
      sql: `INSERT OR REPLACE INTO licence_day_curves (licence_id, day, site_code, points,
          changed_at) SELECT value ->> 0, ?2, ?1, value ->> 1, ${NOW_MS} FROM json_each(?3)`,
      args: [site, day, JSON.stringify(k)],
    });
  }
  return statements;
}

function deleteStatements(
  site: string,
  day: string,
  record: ReturnType<typeof parseSummaryKey>,
): InStatement[] {
  switch (record.kind) {
    case "h":
      return [{
        sql: "DELETE FROM site_hourly_usage WHERE site_code = ? AND rule_id = ? AND hour_ms = ?",
        args: [site, record.ruleId, record.hourMs],
      }];
    case "l":
      return [{
        sql: `DELETE FROM site_local_hour_users WHERE site_code = ? AND rule_id = ?
          AND local_date = ? AND local_hour = ? AND time_zone = ?`,
        args: [site, record.ruleId, record.localDate, record.localHour, record.timeZone],
      }];
    case "c":
      return [];
    case "p":
      return [{
        sql: `DELETE FROM licence_site_figures WHERE licence_id = ? AND site_code = ? AND day = ?`,
        args: [record.licenceId, site, day],
      }];
    case "k":
      return [{
        sql: `DELETE FROM licence_day_curves WHERE licence_id = ? AND site_code = ? AND day = ?`,
        args: [record.licenceId, site, day],
      }, {
        // Computed again at the next refresh from the curves that remain.
        sql: "DELETE FROM licence_day_peaks WHERE licence_id = ? AND day = ?",
        args: [record.licenceId, day],
      }];
    case "d":
      return [{
        sql: `DELETE FROM daily_usage WHERE client_id = ?1 AND day = ?3 AND rule_id = ?4
          AND user_name = ?5 AND ${CLIENT_OF_SITE}`,
        args: [record.clientId, site, day, record.ruleId, record.user],
      }];
  }
}
