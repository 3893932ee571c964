/**
 * The summariser: keeps the summary tables equal to what the raw sessions
 * say, bucket by bucket.
 *
 * A run takes the sessions that changed (`summary_pending`, filled by
 * materialisation), finds the hours and computers' days they touch, and
 * recomputes those buckets from the raw sessions: hourly figures, daily
 * cells and local-hour presence; then, in SQL, the monthly rows, monthly
 * totals and local-hour user counts above them. Recomputing rather than
 * adding makes every run idempotent: a session sent twice, a late session
 * from an agent offline for weeks, or the end of a session that was running
 * all come out exact. Every few minutes it also brings the run time of
 * sessions still running up to date.
 *
 * Reads happen outside the site's write lock; the results are stored in
 * bounded transactions under it, the pending entries they cover removed
 * last, so a crash at any point only means a bucket is computed again.
 *
 * `rebuild()` computes everything from scratch, one UTC day at a time.
 *
 * @module
 */
import type { Client, InStatement } from "../../sync/db.ts";
import { dayOf } from "../../sync/doc_id.ts";
import { log } from "../../sync/log.ts";
import type { Mutex } from "../../sync/mutex.ts";
import type { SiteSettings } from "../site_settings.ts";
import { clientDayFigures } from "./client_day_figures.ts";
import { DirtyBuckets } from "./dirty_buckets.ts";
import { hourFigures } from "./hour_figures.ts";
import { clientSessionsOfDay, sessionsInWindow } from "./session_reader.ts";
import {
  aggregateAllStatements,
  clientDayStatements,
  clientMonthStatements,
  hourStatements,
  localHourStatements,
  ruleMonthStatements,
} from "./summary_statements.ts";
import { DAY_MS, HOUR_MS, type SummarySession } from "./summary_session.ts";
import { loadSummaryState, type SummaryState, summaryStateStatements } from "./summary_state.ts";

export interface SummarizerOptions {
  db: Client;
  /** The site's write lock, held while results are stored. */
  lock: Mutex;
  settings: () => SiteSettings;
  /** Pending sessions taken per pass. */
  batchSize?: number;
  /** Statements per transaction, so ingest never waits long. */
  statementsPerTransaction?: number;
}

export interface SummaryRun {
  sessions: number;
  hours: number;
  clientDays: number;
  refreshedRunning: boolean;
  ms: number;
}

export class Summarizer {
  readonly #o: SummarizerOptions;
  #running: Promise<unknown> = Promise.resolve();

  constructor(options: SummarizerOptions) {
    this.#o = options;
  }

  /** Summarises what changed; runs never overlap. */
  run(now = Date.now()): Promise<SummaryRun> {
    const result = this.#running.catch(() => {}).then(() => this.#run(now));
    this.#running = result;
    return result;
  }

  /** Throws away every summary and computes them again from the raw sessions. */
  rebuild(now = Date.now(), progress: (day: string) => void = () => {}): Promise<SummaryRun> {
    const result = this.#running.catch(() => {}).then(() => this.#rebuild(now, progress));
    this.#running = result;
    return result;
  }

  async #run(now: number): Promise<SummaryRun> {
    const started = performance.now();
    const { db } = this.#o;
    const state = await loadSummaryState(db);
    const total: SummaryRun = {
      sessions: 0,
      hours: 0,
      clientDays: 0,
      refreshedRunning: false,
      ms: 0,
    };
    const refresh =
      now - state.runningRefreshedAt >= this.#o.settings().runningRefreshSeconds * 1000;
    for (let pass = 0;; pass++) {
      const pending = await this.#pending();
      const dirty = new DirtyBuckets(now - this.#o.settings().rawRetentionDays * DAY_MS);
      // A session that was running when last summarised counted until then.
      const lastSeen = Math.min(now, Math.max(state.summarizedUntil, state.runningRefreshedAt));
      for (const p of pending.rows) {
        const end = p.end ?? now;
        dirty.add(p.clientId, p.start, p.wasRunning ? Math.max(end, lastSeen) : end);
      }
      const refreshing = refresh && pass === 0;
      if (refreshing) await this.#markRunning(dirty, state, now);
      const drained = pending.rows.length < this.#batchSize;
      const next: SummaryState = {
        summarizedUntil: drained ? now : state.summarizedUntil,
        runningRefreshedAt: refreshing ? now : state.runningRefreshedAt,
      };
      await this.#recompute(dirty, now, [
        ...(pending.maxId === undefined
          ? []
          : [{ sql: "DELETE FROM summary_pending WHERE id <= ?", args: [pending.maxId] }]),
        ...summaryStateStatements(db, next),
      ]);
      Object.assign(state, next);
      total.sessions += pending.rows.length;
      total.hours += dirty.hours.size;
      total.clientDays += dirty.size - dirty.hours.size;
      total.refreshedRunning ||= refreshing;
      if (drained) break;
    }
    total.ms = Math.round(performance.now() - started);
    if (total.sessions > 0 || total.refreshedRunning) log.debug("summarised", { ...total });
    return total;
  }

  get #batchSize(): number {
    return this.#o.batchSize ?? 5_000;
  }

  async #pending() {
    const result = await this.#o.db.execute({
      sql: "SELECT id, client_id, start_ms, end_ms, was_running FROM summary_pending " +
        "ORDER BY id LIMIT ?",
      args: [this.#batchSize],
    });
    const rows = result.rows.map((r) => ({
      clientId: r.client_id as string,
      start: r.start_ms as number,
      end: r.end_ms as number | null,
      wasRunning: r.was_running === 1,
    }));
    const maxId = result.rows.length > 0 ? result.rows.at(-1)!.id as number : undefined;
    return { rows, maxId };
  }

  /** Sessions still running have run on since the last refresh. */
  async #markRunning(dirty: DirtyBuckets, state: SummaryState, now: number): Promise<void> {
    const running = await this.#o.db.execute(
      "SELECT client_id, start_ms FROM usage_sessions INDEXED BY usage_long WHERE end_ms IS NULL",
    );
    for (const row of running.rows) {
      const start = row.start_ms as number;
      dirty.add(row.client_id as string, Math.max(start, state.runningRefreshedAt - HOUR_MS), now);
    }
  }

  /** Recomputes the dirty buckets and stores them, then `last`. */
  async #recompute(dirty: DirtyBuckets, now: number, last: InStatement[]): Promise<void> {
    const writes: InStatement[][] = [];
    for (const window of dirty.hourWindows()) {
      const sessions = await sessionsInWindow(this.#o.db, window.from, window.to);
      writes.push(
        hourStatements(window.from, window.to, hourFigures(sessions, window.hours, now), now),
      );
    }
    const above = new AboveDays();
    const zones = await this.#timeZones([...dirty.clientDays.keys()]);
    for (const [clientId, days] of dirty.clientDays) {
      for (const day of days) {
        const sessions = await clientSessionsOfDay(this.#o.db, clientId, day);
        const figures = clientDayFigures(sessions, day, zones.get(clientId) ?? "UTC", now);
        await above.noteOld(this.#o.db, clientId, day);
        above.noteNew(clientId, day, figures.cells, figures.presence);
        writes.push(clientDayStatements(clientId, day, figures));
      }
    }
    writes.push(...above.statements(), last);
    await this.#store(writes);
  }

  /** Stores groups of statements, a bounded transaction at a time, in order. */
  async #store(groups: InStatement[][]): Promise<void> {
    const limit = this.#o.statementsPerTransaction ?? 2_000;
    let batch: InStatement[] = [];
    const flush = async () => {
      if (batch.length === 0) return;
      const statements = batch;
      batch = [];
      await this.#o.lock.run(() => this.#o.db.batch(statements, "write"));
    };
    for (const group of groups) {
      if (batch.length + group.length > limit) await flush();
      batch.push(...group);
    }
    await flush();
  }

  async #timeZones(clientIds: string[]): Promise<Map<string, string>> {
    const zones = new Map<string, string>();
    for (let i = 0; i < clientIds.length; i += 500) {
      const part = clientIds.slice(i, i + 500);
      const result = await this.#o.db.execute({
        sql: `SELECT client_id, time_zone FROM clients WHERE client_id IN (${
          part.map(() => "?").join(",")
        })`,
        args: part,
      });
      for (const row of result.rows) zones.set(row.client_id as string, row.time_zone as string);
    }
    return zones;
  }

  async #rebuild(now: number, progress: (day: string) => void): Promise<SummaryRun> {
    const started = performance.now();
    const { db } = this.#o;
    const pendingMax = Number(
      (await db.execute("SELECT coalesce(max(id), 0) AS id FROM summary_pending")).rows[0].id,
    );
    const range = await db.execute("SELECT min(start_ms) AS first FROM usage_sessions");
    const first = range.rows[0].first as number | null;
    await this.#store([[
      ..."hourly_usage daily_usage local_presence".split(" ").map((t) => ({
        sql: `DELETE FROM ${t}`,
        args: [],
      })),
    ]]);
    const zones = await this.#allTimeZones();
    const total: SummaryRun = {
      sessions: 0,
      hours: 0,
      clientDays: 0,
      refreshedRunning: true,
      ms: 0,
    };
    for (
      let day = first === null ? now + 1 : Math.floor(first / DAY_MS) * DAY_MS;
      day <= now;
      day += DAY_MS
    ) {
      const sessions = await sessionsInWindow(db, day, day + DAY_MS);
      const hours = new Set(Array.from({ length: 24 }, (_, i) => day + i * HOUR_MS));
      const writes = [hourStatements(day, day + DAY_MS, hourFigures(sessions, hours, now), now)];
      for (const [clientId, own] of byClient(sessions)) {
        writes.push(
          clientDayStatements(
            clientId,
            dayOf(day),
            clientDayFigures(own, dayOf(day), zones.get(clientId) ?? "UTC", now),
          ),
        );
        total.clientDays++;
      }
      await this.#store(writes);
      total.sessions += sessions.filter((s) => s.start >= day).length;
      total.hours += 24;
      progress(dayOf(day));
    }
    await this.#store([aggregateAllStatements, [
      { sql: "DELETE FROM summary_pending WHERE id <= ?", args: [pendingMax] },
      ...summaryStateStatements(db, { summarizedUntil: now, runningRefreshedAt: now }),
    ]]);
    total.ms = Math.round(performance.now() - started);
    log.info("summaries rebuilt", { ...total });
    return total;
  }

  async #allTimeZones(): Promise<Map<string, string>> {
    const result = await this.#o.db.execute("SELECT client_id, time_zone FROM clients");
    return new Map(result.rows.map((r) => [r.client_id as string, r.time_zone as string]));
  }
}

function byClient(sessions: SummarySession[]): Map<string, SummarySession[]> {
  const groups = new Map<string, SummarySession[]>();
  for (const s of sessions) {
    const group = groups.get(s.clientId);
    if (group) group.push(s);
    else groups.set(s.clientId, [s]);
  }
  return groups;
}

/**
 * What changed above the days recomputed: the computers' months to re-add,
 * the rules' months whose totals change, and the local hours whose users
 * are recounted, both those the days touched before and those they touch now.
 */
class AboveDays {
  readonly #clientMonths = new Set<string>();
  readonly #ruleMonths = new Set<string>();
  readonly #cells = new Set<string>();

  async noteOld(db: Client, clientId: string, day: string): Promise<void> {
    const month = day.slice(0, 7);
    const rules = await db.execute({
      sql: "SELECT DISTINCT rule_id FROM monthly_usage WHERE client_id = ? AND month = ?",
      args: [clientId, month],
    });
    for (const row of rules.rows) this.#ruleMonths.add(`${row.rule_id}\u0000${month}`);
    const cells = await db.execute({
      sql:
        "SELECT DISTINCT rule_id, local_date, local_hour FROM local_presence WHERE client_id = ? AND utc_day = ?",
      args: [clientId, day],
    });
    for (const row of cells.rows) {
      this.#cells.add(`${row.rule_id}\u0000${row.local_date}\u0000${row.local_hour}`);
    }
  }

  noteNew(
    clientId: string,
    day: string,
    cells: { ruleId: string }[],
    presence: { ruleId: string; localDate: string; localHour: number }[],
  ): void {
    const month = day.slice(0, 7);
    this.#clientMonths.add(`${clientId}\u0000${month}`);
    for (const cell of cells) this.#ruleMonths.add(`${cell.ruleId}\u0000${month}`);
    for (const p of presence) {
      this.#cells.add(`${p.ruleId}\u0000${p.localDate}\u0000${p.localHour}`);
    }
  }

  statements(): InStatement[][] {
    const split = (key: string) => key.split("\u0000");
    return [
      ...[...this.#clientMonths].map((k) =>
        clientMonthStatements(...(split(k) as [string, string]))
      ),
      ...[...this.#ruleMonths].map((k) => ruleMonthStatements(...(split(k) as [string, string]))),
      ...[...this.#cells].map((k) => {
        const [rule, date, hour] = split(k);
        return localHourStatements(rule, date, Number(hour));
      }),
    ];
  }
}
