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
 * Computers' days are read and written a day at a time in bulk, so a
 * refresh of ten thousand running sessions is a handful of statements.
 *
 * `rebuild()` computes everything from scratch, one UTC day at a time,
 * adding up the months and local hours above the days as it goes.
 *
 * @module
 */
import type { Client, InStatement } from "../../store/db.ts";
import { dayOf, dayStart } from "../../model/doc_id.ts";
import { log } from "../../lib/log.ts";
import type { Mutex } from "../../lib/mutex.ts";
import { EventLoopShare } from "../../lib/event_loop_share.ts";
import type { SiteSettings } from "../site_settings.ts";
import { type ClientDayFigures, clientDayFigures } from "./client_day_figures.ts";
import { markAllDaysStatement, markDaysStatement } from "./summary_outbox.ts";
import { DirtyBuckets } from "./dirty_buckets.ts";
import { hourFigures } from "./hour_figures.ts";
import { clientSessionsOfDay, sessionsInWindow } from "./session_reader.ts";
import { firstSessionStart, runningSessionStarts } from "../usage/sessions_table.ts";
import { allClientIds, inOwnClients, timeZonesOf } from "../clients/clients_table.ts";
import {
  allTotalsStatements,
  clientDaysInserts,
  clientDaysStatements,
  clientMonthsStatements,
  hourInserts,
  hourStatements,
  ruleMonthStatements,
} from "./summary_statements.ts";
import { type UserHoursKey, userHoursKeys, userHoursStatements } from "./local_user_hours.ts";
import { RebuildSums } from "./rebuild_sums.ts";
import { DAY_MS, HOUR_MS, type SummarySession } from "./summary_session.ts";
import { loadSummaryState, type SummaryState, summaryStateStatements } from "./summary_state.ts";

/** Computers whose day is stored per transaction, so ingest never waits long. */
const CLIENTS_PER_TRANSACTION = 250;
/**
 * Bytes of statements and bound values per transaction, past which the
 * next group goes into a transaction of its own. A transaction is one task
 * of the site's thread: at 50,000 agents a run every 15 s stored 300 KB at
 * once, 40 to 95 ms during which no request, a health check as much as a
 * sync, was answered.
 */
const BYTES_PER_TRANSACTION = 64 * 1024;
/**
 * Statements per transaction: some carry few bytes and much work (a
 * month's rows of 250 computers added up again from their days), and 14
 * of them still took 25 ms.
 */
const STATEMENTS_PER_TRANSACTION = 8;
/** A rebuild's statements per transaction, whatever their size (see `#store`). */
const REBUILD_STATEMENTS_PER_TRANSACTION = 200;
/**
 * More computers than this on one day are read with one window query over
 * the whole fleet's day; fewer, one computer at a time (cheaper until then).
 */
const WINDOW_READ_FROM = 2_000;

export interface SummarizerOptions {
  db: Client;
  /** The site's write lock, held while results are stored. */
  lock: Mutex;
  /**
   * Stores one transaction; by default on `db` under `lock`. The worker's
   * summariser hands its transactions to the site's thread instead, so that
   * the site's connection stays the only writer.
   */
  store?: (statements: InStatement[]) => Promise<void>;
  settings: () => SiteSettings;
  /** The most pending sessions one run takes. */
  batchSize?: number;
  /** Days with more computers than this are read with one window query. */
  windowReadFrom?: number;
  /** Statements per transaction, so ingest never waits long. */
  statementsPerTransaction?: number;
  /** Bytes per transaction ({@linkcode BYTES_PER_TRANSACTION}); a group larger still goes alone. */
  bytesPerTransaction?: number;
  /** The longest stretch of work between two turns of the event loop (default 10 ms). */
  eventLoopBudgetMs?: number;
}

export interface SummaryRun {
  sessions: number;
  hours: number;
  /**
   * Computers' days summarised. A rebuild shared among threads counts a
   * computer's day once in each share of the rules its sessions ran.
   */
  clientDays: number;
  refreshedRunning: boolean;
  ms: number;
}

interface Pending {
  clientId: string;
  ruleId: string;
  start: number;
  end: number | null;
  wasRunning: boolean;
}

type DayEntry = { clientId: string; figures: ClientDayFigures };

export class Summarizer {
  readonly #o: SummarizerOptions;
  #running: Promise<unknown> = Promise.resolve();
  /** Sync requests are answered between the run's reads, not after the whole run. */
  readonly #share: EventLoopShare;

  constructor(options: SummarizerOptions) {
    this.#o = options;
    this.#share = new EventLoopShare(options.eventLoopBudgetMs);
  }

  /** Summarises what changed; runs never overlap. */
  run(now = Date.now()): Promise<SummaryRun> {
    return this.#serial(() => this.#run(now));
  }

  /** Throws away every summary and computes them again from the raw sessions. */
  rebuild(now = Date.now(), progress: (day: string) => void = () => {}): Promise<SummaryRun> {
    return this.#serial(() => this.#rebuild(now, progress));
  }

  #serial<T>(work: () => Promise<T>): Promise<T> {
    const result = this.#running.catch(() => {}).then(work);
    this.#running = result;
    return result;
  }

  async #run(now: number): Promise<SummaryRun> {
    const started = performance.now();
    const state = await loadSummaryState(this.#o.db);
    const settings = this.#o.settings();
    const refresh = now - state.runningRefreshedAt >= settings.runningRefreshSeconds * 1000;
    const dirty = new DirtyBuckets(now - settings.rawRetentionDays * DAY_MS);
    // A session known as running was last recomputed between the latest
    // refresh and the latest run, counted up to then: its end changes the
    // buckets from the earlier of its end and that refresh, up to the later
    // of its end and that run.
    const refreshed = Math.min(now, state.runningRefreshedAt);
    const lastRun = Math.min(now, Math.max(state.lastRunAt, state.runningRefreshedAt));
    const pending = await this.#pending();
    for (const p of pending.rows) {
      const end = p.end ?? now;
      if (p.wasRunning) {
        const from = Math.max(p.start, Math.min(end, refreshed));
        dirty.add(p.clientId, from, Math.max(end, lastRun), p.ruleId);
      } else dirty.add(p.clientId, p.start, end, p.ruleId);
    }
    if (refresh) await this.#markRunning(dirty, state, now);
    // Everything waiting is taken in one pass, so a backlog costs each bucket once.
    const drained = pending.rows.length < this.#batchSize;
    const next: SummaryState = {
      summarizedUntil: drained ? now : state.summarizedUntil,
      runningRefreshedAt: refresh ? now : state.runningRefreshedAt,
      lastRunAt: now,
    };
    const done = pending.maxId === undefined
      ? []
      : [{ sql: "DELETE FROM summary_pending WHERE id <= ?", args: [pending.maxId] }];
    await this.#recompute(dirty, now, [...done, ...summaryStateStatements(this.#o.db, next)]);
    const total: SummaryRun = {
      sessions: pending.rows.length,
      hours: dirty.hours.size,
      clientDays: dirty.size - dirty.hours.size,
      refreshedRunning: refresh,
      ms: Math.round(performance.now() - started),
    };
    if (total.sessions > 0 || total.refreshedRunning) log.debug("summarised", { ...total });
    // Past the batch, the rest waits for the next run (and shows as waiting meanwhile).
    return total;
  }

  get #batchSize(): number {
    return this.#o.batchSize ?? 500_000;
  }

  async #pending(): Promise<{ rows: Pending[]; maxId?: number }> {
    const rows: Pending[] = [];
    let maxId: number | undefined;
    // Read in pages by id, so no single result holds the whole backlog.
    while (rows.length < this.#batchSize) {
      await this.#share.turn();
      const result = await this.#o.db.execute({
        sql: "SELECT id, client_id, rule_id, start_ms, end_ms, was_running FROM summary_pending " +
          "WHERE id > ? ORDER BY id LIMIT ?",
        args: [maxId ?? 0, Math.min(20_000, this.#batchSize - rows.length)],
      });
      for (const r of result.rows) {
        rows.push({
          clientId: r.client_id as string,
          ruleId: r.rule_id as string,
          start: r.start_ms as number,
          end: r.end_ms as number | null,
          wasRunning: r.was_running === 1,
        });
        maxId = r.id as number;
      }
      if (result.rows.length < 20_000) break;
    }
    return { rows, maxId };
  }

  /** Sessions still running have run on since the last refresh. */
  async #markRunning(dirty: DirtyBuckets, state: SummaryState, now: number): Promise<void> {
    for (const { clientId, ruleId, startMs } of await runningSessionStarts(this.#o.db)) {
      dirty.add(clientId, Math.max(startMs, state.runningRefreshedAt - HOUR_MS), now, ruleId);
    }
  }

  /**
   * Recomputes the dirty buckets and stores them, then `last` with the days
   * touched marked for the parent (`summary_outbox`).
   */
  async #recompute(dirty: DirtyBuckets, now: number, last: InStatement[]): Promise<void> {
    const writes: InStatement[][] = [];
    const days = new Set<string>();
    for (const window of dirty.hourWindows()) {
      for (const hour of window.hours) days.add(dayOf(hour));
      await this.#share.turn();
      // Only the rules whose sessions changed: a late agent's programs, not the fleet's.
      const rules = window.rules ?? undefined;
      const sessions = await sessionsInWindow(this.#o.db, window.from, window.to, rules);
      const figures = hourFigures(sessions, window.hours, now);
      writes.push(hourStatements(window.from, window.to, figures, now, rules));
    }
    const above = new AboveDays();
    const zones = await timeZonesOf(this.#o.db, [...dirty.clientDays.keys()]);
    for (const [day, clientIds] of byDay(dirty.clientDays)) {
      const sessions = await this.#sessionsOfClients(day, clientIds);
      const entries: DayEntry[] = [];
      for (const clientId of clientIds) {
        const own = sessions.get(clientId) ?? [];
        entries.push({ clientId, figures: clientDayFigures(own, day, zone(zones, clientId), now) });
        await this.#share.turn();
      }
      await above.noteDay(this.#o.db, day, entries);
      writes.push(...dayWrites(day, entries));
      days.add(day);
    }
    for (const date of above.localDates()) days.add(date);
    const below = await this.#monthsOfSitesBelow();
    writes.push(...above.statements(), ...below.statements);
    await this.#store(writes);
    // Read after the days are stored: a user's hours are the union of all their days.
    await this.#store(await userHoursStatements(this.#o.db, above.userHoursKeys()));
    await this.#store([[...last, ...below.done, markDaysStatement(days)]]);
  }

  /**
   * The months that daily rows of the sites below changed (queued in
   * `months_pending` by their materialisation): their monthly rows and totals
   * are recomputed here, in bounded transactions, and the queue entries taken
   * out with the run's last statements.
   */
  async #monthsOfSitesBelow(): Promise<{ statements: InStatement[][]; done: InStatement[] }> {
    const result = await this.#o.db.execute(
      "SELECT month, client_id, rule_id FROM months_pending LIMIT 100000",
    );
    if (result.rows.length === 0) return { statements: [], done: [] };
    const clients = new Map<string, Set<string>>();
    const rules = new Set<string>();
    for (const row of result.rows) {
      const month = row.month as string;
      if (!clients.has(month)) clients.set(month, new Set());
      clients.get(month)!.add(row.client_id as string);
      rules.add(key(row.rule_id as string, month));
    }
    const statements = [
      ...[...clients].flatMap(([month, ids]) =>
        chunks([...ids], CLIENTS_PER_TRANSACTION).map((part) => clientMonthsStatements(month, part))
      ),
      ...[...rules].map((k) => ruleMonthStatements(...(k.split("\u0000") as [string, string]))),
    ];
    const taken = JSON.stringify(result.rows.map((r) => [r.month, r.client_id, r.rule_id]));
    return {
      statements,
      done: [{
        sql: `DELETE FROM months_pending WHERE (month, client_id, rule_id) IN
          (SELECT value ->> 0, value ->> 1, value ->> 2 FROM json_each(?))`,
        args: [taken],
      }],
    };
  }

  /** The sessions of some computers that may overlap a day: one window read when they are many. */
  async #sessionsOfClients(day: string, clientIds: string[]) {
    if (clientIds.length > (this.#o.windowReadFrom ?? WINDOW_READ_FROM)) {
      const wanted = new Set(clientIds);
      const from = dayStart(day);
      const all = await sessionsInWindow(this.#o.db, from, from + DAY_MS);
      return byClient(all.filter((s) => wanted.has(s.clientId)));
    }
    const sessions = new Map<string, SummarySession[]>();
    for (const clientId of clientIds) {
      await this.#share.turn();
      sessions.set(clientId, await clientSessionsOfDay(this.#o.db, clientId, day));
    }
    return sessions;
  }

  /**
   * Stores groups of statements, a bounded transaction at a time, in order.
   * A rebuild (`bulk`) stores in transactions of up to 200 statements of any
   * size: each transaction is a round trip from the worker to the site's
   * thread, and the small ones of a run took a rebuild from 13 to 20 s.
   */
  async #store(groups: InStatement[][], bulk = false): Promise<void> {
    const limit = bulk
      ? REBUILD_STATEMENTS_PER_TRANSACTION
      : this.#o.statementsPerTransaction ?? STATEMENTS_PER_TRANSACTION;
    const byteLimit = bulk ? Infinity : this.#o.bytesPerTransaction ?? BYTES_PER_TRANSACTION;
    let batch: InStatement[] = [];
    let bytes = 0;
    const flush = async () => {
      if (batch.length === 0) return;
      const statements = batch;
      batch = [];
      bytes = 0;
      await this.#share.turn();
      if (this.#o.store) await this.#o.store(statements);
      else await storeUnderLock(this.#o.db, this.#o.lock, statements);
    };
    for (const group of groups) {
      const size = group.reduce((sum, statement) => sum + statementBytes(statement), 0);
      if (batch.length + group.length > limit || bytes + size > byteLimit) await flush();
      batch.push(...group);
      bytes += size;
    }
    await flush();
  }

  async #rebuild(now: number, progress: (day: string) => void): Promise<SummaryRun> {
    const started = performance.now();
    const begun = await this.#beginRebuild();
    const total = await this.#rebuildRules(now, undefined, progress);
    await this.#finishRebuild(now, begun);
    total.ms = Math.round(performance.now() - started);
    log.info("summaries rebuilt", { ...total });
    return total;
  }

  /**
   * The steps of a rebuild shared among summarisers on several threads
   * (`summarizer_thread.ts`): one begins it, each computes the summaries of
   * its share of the rules, one finishes it. Every summary table is keyed by
   * rule, so the shares never write the same row.
   */
  beginRebuild(): Promise<RebuildStart> {
    return this.#serial(() => this.#beginRebuild());
  }

  /** Computes the summaries of `rules` (every rule when absent) into tables a rebuild emptied. */
  rebuildRules(now: number, rules?: readonly string[]): Promise<SummaryRun> {
    return this.#serial(() => this.#rebuildRules(now, rules, () => {}));
  }

  finishRebuild(now: number, begun: RebuildStart): Promise<void> {
    return this.#serial(() => this.#finishRebuild(now, begun));
  }

  async #beginRebuild(): Promise<RebuildStart> {
    const { db } = this.#o;
    const pendingMax = await db.execute("SELECT coalesce(max(id), 0) AS id FROM summary_pending");
    // Only this site's clients: a parent's rows of the sites below stay.
    await this.#store([
      ["DELETE FROM hourly_usage", "DELETE FROM local_user_hours", "DELETE FROM local_hour_users"]
        .map((sql) => ({ sql, args: [] })),
      [
        { sql: `DELETE FROM daily_usage WHERE ${inOwnClients("client_id")}`, args: [] },
        { sql: `DELETE FROM monthly_usage WHERE ${inOwnClients("client_id")}`, args: [] },
      ],
    ]);
    return { pendingMax: pendingMax.rows[0].id as number };
  }

  async #rebuildRules(
    now: number,
    rules: readonly string[] | undefined,
    progress: (day: string) => void,
  ): Promise<SummaryRun> {
    const started = performance.now();
    const { db } = this.#o;
    const first = await firstSessionStart(db);
    const zones = await timeZonesOf(db, await allClientIds(db));
    const total = emptyRun(true);
    const sums = new RebuildSums();
    const firstDay = first === null ? now + 1 : Math.floor(first / DAY_MS) * DAY_MS;
    let storing = Promise.resolve();
    for (let day = firstDay; day <= now; day += DAY_MS) {
      await this.#share.turn();
      const sessions = await sessionsInWindow(db, day, day + DAY_MS, rules);
      const hours = new Set(Array.from({ length: 24 }, (_, i) => day + i * HOUR_MS));
      const entries = [...byClient(sessions)].map(([clientId, own]) => ({
        clientId,
        figures: clientDayFigures(own, dayOf(day), zone(zones, clientId), now),
      }));
      // Inserts only: the tables were emptied, and another thread may be
      // writing the other rules' rows of the same hours and days.
      const writes = [
        hourInserts(hourFigures(sessions, hours, now), now),
        // A rebuild's transactions are not bounded by computers: the bulk
        // insert bounds each statement's rows itself.
        clientDaysInserts(dayOf(day), entries),
        sums.addDay(dayOf(day), entries),
      ];
      // One day's writes are stored while the next is read and computed: on
      // the worker's thread, the site's thread stores them meanwhile.
      await storing;
      storing = this.#store(writes, true);
      // Awaited with the next day: seen as handled until then.
      storing.catch(() => {});
      total.sessions += sessions.filter((s) => s.start >= day).length;
      total.hours += 24;
      total.clientDays += entries.length;
      progress(dayOf(day));
    }
    await storing;
    await this.#store([sums.finish()], true);
    total.ms = Math.round(performance.now() - started);
    return total;
  }

  async #finishRebuild(now: number, begun: RebuildStart): Promise<void> {
    await this.#store([allTotalsStatements, [
      markAllDaysStatement,
      { sql: "DELETE FROM summary_pending WHERE id <= ?", args: [begun.pendingMax] },
      ...summaryStateStatements(this.#o.db, {
        summarizedUntil: now,
        runningRefreshedAt: now,
        lastRunAt: now,
      }),
    ]], true);
  }
}

/** What a rebuild's last step needs from its first: the pending sessions it covers. */
export interface RebuildStart {
  pendingMax: number;
}

/** One transaction of summary writes on the site's connection, under its write lock. */
export function storeUnderLock(db: Client, lock: Mutex, statements: InStatement[]): Promise<void> {
  return lock.run(async () => {
    await db.batch(statements, "write");
  });
}

/** About how many bytes a statement carries: its SQL and its text and blob values. */
export function statementBytes(statement: InStatement): number {
  if (typeof statement === "string") return statement.length;
  const args = Array.isArray(statement.args) ? statement.args : Object.values(statement.args ?? {});
  let bytes = statement.sql.length;
  for (const arg of args) {
    if (typeof arg === "string") bytes += arg.length;
    else if (arg instanceof Uint8Array || arg instanceof ArrayBuffer) bytes += arg.byteLength;
    else bytes += 8;
  }
  return bytes;
}

const emptyRun = (refreshedRunning: boolean): SummaryRun => ({
  sessions: 0,
  hours: 0,
  clientDays: 0,
  refreshedRunning,
  ms: 0,
});

const zone = (zones: Map<string, string>, clientId: string) => zones.get(clientId) ?? "UTC";

/** A day's computers, stored a thousand at a time. */
function dayWrites(day: string, entries: DayEntry[]): InStatement[][] {
  return chunks(entries, CLIENTS_PER_TRANSACTION).map((part) => clientDaysStatements(day, part));
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

/** Dirty client-days regrouped by day. */
function byDay(clientDays: Map<string, Set<string>>): Map<string, string[]> {
  const days = new Map<string, string[]>();
  for (const [clientId, set] of clientDays) {
    for (const day of set) {
      const group = days.get(day);
      if (group) group.push(clientId);
      else days.set(day, [clientId]);
    }
  }
  return days;
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

const key = (...parts: (string | number)[]) => parts.join("\u0000");

/**
 * What changed above the days recomputed: the computers' months to re-add,
 * the rules' months whose totals change, and the users whose local hours may
 * have changed (those of the rows a day held before, and of the rows it
 * holds now).
 */
class AboveDays {
  /** Client ids by month. */
  readonly #clientMonths = new Map<string, Set<string>>();
  readonly #ruleMonths = new Set<string>();
  readonly #userHours = new Map<string, UserHoursKey>();

  /** Notes what some computers' recomputed day changes, reading what they held before. */
  async noteDay(db: Client, day: string, entries: DayEntry[]): Promise<void> {
    const month = day.slice(0, 7);
    const ids = JSON.stringify(entries.map((e) => e.clientId));
    const ofClients = "client_id IN (SELECT value FROM json_each(?))";
    const rules = await db.execute({
      sql: `SELECT DISTINCT rule_id FROM monthly_usage WHERE month = ? AND ${ofClients}`,
      args: [month, ids],
    });
    for (const row of rules.rows) this.#ruleMonths.add(key(row.rule_id as string, month));
    const before = await db.execute({
      sql: `SELECT rule_id, user_name, time_zone, local_hours FROM daily_usage
        WHERE day = ? AND ${ofClients} AND local_hours != 0`,
      args: [day, ids],
    });
    this.#noteHours(userHoursKeys(
      day,
      before.rows.map((r) => ({
        ruleId: r.rule_id as string,
        user: r.user_name as string,
        timeZone: r.time_zone as string,
        localHours: r.local_hours as number,
      })),
    ));
    let clients = this.#clientMonths.get(month);
    if (!clients) this.#clientMonths.set(month, clients = new Set());
    for (const { clientId, figures } of entries) {
      clients.add(clientId);
      for (const cell of figures.cells) this.#ruleMonths.add(key(cell.ruleId, month));
      const zone = figures.timeZone;
      this.#noteHours(userHoursKeys(day, figures.cells.map((c) => ({ ...c, timeZone: zone }))));
    }
  }

  #noteHours(keys: UserHoursKey[]): void {
    for (const k of keys) this.#userHours.set(key(...k), k);
  }

  /** The users whose hours to count again. */
  userHoursKeys(): Iterable<UserHoursKey> {
    return this.#userHours.values();
  }

  /** The local dates whose cells may change. */
  localDates(): Set<string> {
    return new Set([...this.#userHours.values()].map((k) => k[1]));
  }

  statements(): InStatement[][] {
    const months = [...this.#clientMonths].flatMap(([month, clients]) =>
      chunks([...clients], CLIENTS_PER_TRANSACTION).map((part) =>
        clientMonthsStatements(month, part)
      )
    );
    const totals = [...this.#ruleMonths].map((k) =>
      ruleMonthStatements(...(k.split("\u0000") as [string, string]))
    );
    return [...months, ...totals];
  }
}
