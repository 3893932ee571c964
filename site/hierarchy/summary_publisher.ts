/**
 * Writes this site's summaries into `summary/<site>/<day>/<shard>`
 * documents for its parent: for every day in the outbox, the day's records
 * (`summary_record.ts`) are read from the summary tables (this site's own
 * clients only: what it relays from below travels in the documents of the
 * sites below) and each shard document gets one change with the records that
 * differ, or none. The outbox entry goes in the same transaction.
 *
 * A day is cut into shards when it is first written, sized from the clients
 * enrolled for about 5,000 records each (so documents stay well under 10,000
 * records as the day fills up);
 * hourly, local-hour and licence records live in shard 0, a client's records in the
 * shard its id hashes to, so a client's day never moves between documents.
 *
 * @module
 */
import * as A from "@automerge/automerge";
import type { Client, InStatement } from "../../store/db.ts";
import { DAY_MS, dayStart, summaryDocId } from "../../model/doc_id.ts";
import type { Store } from "../../store/store.ts";
import { encodeSummaryValue, summaryKey, type SummaryRecord } from "./summary_record.ts";
import { changeRecords, type RecordDoc } from "../../model/record_changes.ts";
import { fnv1a } from "../../lib/fnv1a.ts";
import { clientPlaces, countClients } from "../clients/clients_table.ts";

export const summaryShardsSchema = [
  `CREATE TABLE IF NOT EXISTS summary_doc_shards (day TEXT PRIMARY KEY, shards INTEGER NOT NULL)`,
] as const;

const RECORDS_PER_SHARD = 5_000;
const MAX_SHARDS = 256;

export interface Published {
  days: number;
  /** Documents that got a change. */
  docs: number;
}

/** Publishes every day waiting in the outbox. */
export async function publishSummaries(site: Store): Promise<Published> {
  const waiting = await site.db.execute("SELECT day, version FROM summary_outbox ORDER BY day");
  const published: Published = { days: 0, docs: 0 };
  for (const row of waiting.rows) {
    published.docs += await publishDay(site, row.day as string, Number(row.version));
    published.days++;
  }
  return published;
}

async function publishDay(site: Store, day: string, version: number): Promise<number> {
  const records = await dayRecords(site, day);
  const shards = await shardCount(site.db, day);
  const byShard = Array.from({ length: shards }, () => new Map<string, Uint8Array>());
  for (const record of records) {
    byShard[shardOf(record, shards)].set(summaryKey(record), encodeSummaryValue(record));
  }
  return await site.lock.run(async () => {
    const statements: InStatement[] = [{
      sql: "INSERT OR IGNORE INTO summary_doc_shards (day, shards) VALUES (?, ?)",
      args: [day, shards],
    }];
    const written: string[] = [];
    for (let shard = 0; shard < shards; shard++) {
      const docId = summaryDocId(site.code, day, shard);
      const save = await changedShard(site, docId, byShard[shard]);
      if (save) {
        statements.push(...save);
        written.push(docId);
      }
    }
    statements.push({
      sql: "DELETE FROM summary_outbox WHERE day = ? AND version = ?",
      args: [day, version],
    });
    await site.db.batch(statements, "write");
    for (const docId of written) site.cache.delete(docId);
    return written.length;
  });
}

/** The statements that store a shard's new state, or none when nothing differs. */
async function changedShard(
  site: Store,
  docId: string,
  wanted: Map<string, Uint8Array>,
): Promise<InStatement[] | undefined> {
  const info = await site.docs.info(docId);
  const stored = info
    ? await site.docs.load<Record<string, Uint8Array>>(docId, site.actor)
    : undefined;
  if (!stored && wanted.size === 0) return undefined;
  const change = changeRecords(
    stored ?? A.init<RecordDoc>({ actor: site.actor }),
    wanted,
    "summaries",
  );
  return change && site.docs.prepareSave(docId, change.doc, info).statements;
}

/**
 * A day's shards, fixed when it is first written. Sized from the clients
 * enrolled (each adds about four records a day: its daily rows and its host),
 * not from the records of the day so far, which are few just after midnight.
 */
async function shardCount(db: Client, day: string): Promise<number> {
  const stored = await db.execute({
    sql: "SELECT shards FROM summary_doc_shards WHERE day = ?",
    args: [day],
  });
  if (stored.rows[0]) return Number(stored.rows[0].shards);
  const clients = await countClients(db);
  return Math.min(MAX_SHARDS, Math.max(1, Math.ceil((clients * 4) / RECORDS_PER_SHARD)));
}

function shardOf(record: SummaryRecord, shards: number): number {
  if (!("clientId" in record) || shards === 1) return 0;
  return fnv1a(record.clientId) % shards;
}

/** The day's records of this site's own clients. */
async function dayRecords(site: Store, day: string): Promise<SummaryRecord[]> {
  const { db } = site;
  const from = dayStart(day);
  const [hours, cells, clients, locals, licences] = await Promise.all([
    db.execute({
      sql: `SELECT rule_id, hour_ms, pairs, users, computers, runs, run_ms, peak_sessions,
        peak_sessions_at, peak_users, peak_users_at, remote_runs, remote_run_ms
        FROM hourly_usage WHERE hour_ms >= ? AND hour_ms < ?`,
      args: [from, from + DAY_MS],
    }),
    db.execute({
      sql: `SELECT d.client_id, d.rule_id, d.user_name, d.runs, d.run_ms, d.last_use_ms,
        d.remote_runs, d.remote_run_ms FROM daily_usage d
        JOIN clients c ON c.client_id = d.client_id WHERE d.day = ?`,
      args: [day],
    }),
    clientPlaces(db, { sql: "SELECT client_id FROM daily_usage WHERE day = ?", args: [day] }),
    db.execute({
      sql: `SELECT rule_id, local_hour, weekday, users, time_zone FROM local_hour_users
        WHERE local_date = ?`,
      args: [day],
    }),
    licenceRecords(db, site.code, day),
  ]);
  const n = (value: unknown) => Number(value);
  const nullable = (value: unknown) => (value === null ? null : Number(value));
  return [
    ...hours.rows.map((r): SummaryRecord => ({
      kind: "h",
      ruleId: r.rule_id as string,
      hourMs: n(r.hour_ms),
      values: [
        n(r.pairs),
        n(r.users),
        n(r.computers),
        n(r.runs),
        n(r.run_ms),
        n(r.peak_sessions),
        nullable(r.peak_sessions_at),
        n(r.peak_users),
        nullable(r.peak_users_at),
        n(r.remote_runs),
        n(r.remote_run_ms),
      ],
    })),
    ...cells.rows.map((r): SummaryRecord => ({
      kind: "d",
      clientId: r.client_id as string,
      ruleId: r.rule_id as string,
      user: r.user_name as string,
      values: [n(r.runs), n(r.run_ms), n(r.last_use_ms), n(r.remote_runs), n(r.remote_run_ms)],
    })),
    ...clients.map((c): SummaryRecord => ({
      kind: "c",
      clientId: c.clientId,
      values: [c.hostName, c.timeZone],
    })),
    ...locals.rows.map((r): SummaryRecord => ({
      kind: "l",
      ruleId: r.rule_id as string,
      localDate: day,
      localHour: n(r.local_hour),
      timeZone: r.time_zone as string,
      values: [n(r.weekday), n(r.users)],
    })),
    ...licences,
  ];
}

/**
 * This site's own licence figures computed that day and its own curves of
 * that day: counts per licence, never a computer or a user's name.
 */
async function licenceRecords(db: Client, code: string, day: string): Promise<SummaryRecord[]> {
  const [figures, curves] = await Promise.all([
    db.execute({
      sql: `SELECT licence_id, window_from, installed, installed_used, used_computers,
        used_users, known_users FROM licence_site_figures WHERE site_code = ? AND day = ?`,
      args: [code, day],
    }),
    db.execute({
      sql: "SELECT licence_id, points FROM licence_day_curves WHERE site_code = ? AND day = ?",
      args: [code, day],
    }),
  ]);
  return [
    ...figures.rows.map((r): SummaryRecord => ({
      kind: "p",
      licenceId: r.licence_id as string,
      values: [
        Number(r.window_from),
        Number(r.installed),
        Number(r.installed_used),
        Number(r.used_computers),
        Number(r.used_users),
        Number(r.known_users),
      ],
    })),
    ...curves.rows.map((r): SummaryRecord => ({
      kind: "k",
      licenceId: r.licence_id as string,
      values: JSON.parse(r.points as string),
    })),
  ];
}
