/**
 * Turns process snapshots into usage sessions: one session per run of a
 * process that matches a rule, from the process's real start time to its
 * exit where the source saw it (`ProcessInfo.endMs`), else to the first
 * poll that no longer sees it.
 *
 * Sessions live in the agent's database from the poll that sees them: a
 * restart after a crash reloads the open ones, carries on with those whose
 * process still runs (same pid, same start time, same boot), and closes the
 * others at the last moment the agent saw them, flagged `endNotCaptured`.
 * Processes that started before the agent did are flagged `startNotCaptured`
 * (their start time still comes from the kernel, so it is exact).
 *
 * A poll plans its changes, stores them, and only then applies them to what
 * it keeps in memory: a failed write leaves memory as the database is, and
 * the next poll finds the same starts and ends again. A full disk is the
 * exception: finding them again would lose the runs that start and end
 * while it lasts and move every end to when space returns, so the changes
 * are applied to memory and held, in order, and every poll tries to store
 * them (with its own) until one succeeds. Held changes live only in memory:
 * an agent stopped before space returns loses them (its open sessions are
 * then closed at the last poll stored, flagged `endNotCaptured`).
 *
 * @module
 */
import type { Client, InStatement } from "../../store/db.ts";
import { dayOf } from "../../model/doc_id.ts";
import { KeyValueTable } from "../../store/key_value_table.ts";
import { log } from "../../lib/log.ts";
import type { Mutex } from "../../lib/mutex.ts";
import type { Rule } from "../../model/rule.ts";
import {
  type ProcessInfo,
  processKey,
  type ProcessSnapshot,
  type ProcessSource,
} from "./process_source.ts";
import { RuleMatcher } from "./rule_matcher.ts";
import { isDiskFull } from "./disk_full.ts";
import { type Clock, systemClock } from "../../lib/clock.ts";

/** How often the last-seen time of open sessions is stored when nothing else changes. */
const LAST_SEEN_EVERY_MS = 5_000;
/**
 * The most statements held in memory while the disk is full (three per run,
 * a few hundred bytes each: some 6,000 runs). Beyond it polls fail as any
 * failed write does, and runs that start and end meanwhile are not seen.
 */
const MAX_HELD_STATEMENTS = 20_000;

export interface SessionRecorderOptions {
  db: Client;
  source: ProcessSource;
  /** Shared with the usage writer, which reads and marks the same rows. */
  lock: Mutex;
  hashOf: (p: ProcessInfo) => Promise<string | null>;
  versionOf: (exe: string) => Promise<string | null>;
  /** When the agent started and since when the disk is full; the computer's clock by default. */
  clock?: Clock;
}

interface OpenSession {
  id: string;
  pid: number;
  startTicks: number;
  bootId: string;
  startMs: number;
}

export interface PollResult {
  at: number;
  started: number;
  ended: number;
  open: number;
}

export class SessionRecorder {
  readonly #o: SessionRecorderOptions;
  readonly #clock: Clock;
  readonly #state: KeyValueTable;
  /** Processes that started before this moment were running when the agent started. */
  readonly #startedAt: number;
  #matcher = new RuleMatcher([]);
  /** Open sessions by process key. */
  #open = new Map<string, OpenSession>();
  /** Processes already judged against the rules, with the exe judged. */
  #judged = new Map<string, string | null>();
  /** The next session number of each day. */
  #counters = new Map<string, number>();
  #firstPoll = true;
  #lastPoll = 0;
  #lastSaved = 0;
  /** Changes applied to memory but not stored yet: the disk was full. */
  #held: InStatement[] = [];
  /** Since when, and how many starts and ends the held changes hold. */
  #full = { since: 0, started: 0, ended: 0 };

  constructor(options: SessionRecorderOptions) {
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.#startedAt = this.#clock.now();
    this.#state = new KeyValueTable(options.db, "agent_state");
  }

  /** Loads the open sessions and counters a previous run left. */
  async load(): Promise<void> {
    const { db } = this.#o;
    const open = await db.execute(
      "SELECT id, pid, start_ticks, boot_id, start_ms FROM agent_sessions WHERE end_ms IS NULL",
    );
    for (const row of open.rows) {
      const session: OpenSession = {
        id: row.id as string,
        pid: row.pid as number,
        startTicks: row.start_ticks as number,
        bootId: row.boot_id as string,
        startMs: row.start_ms as number,
      };
      this.#open.set(processKey(session), session);
    }
    const counters = await db.execute("SELECT day, next FROM day_counters");
    for (const row of counters.rows) this.#counters.set(row.day as string, row.next as number);
    this.#lastPoll = Number(await this.#state.get("last_poll") ?? 0);
  }

  /**
   * What a match depends on changed (package versions, after an inventory):
   * every running process is judged again at the next poll.
   */
  judgeAgain(): void {
    this.#judged.clear();
  }

  /** New rules: every running process is judged again at the next poll. */
  setRules(rules: readonly Rule[]): void {
    this.#matcher = new RuleMatcher(rules);
    this.#o.source.watchFor?.(rules);
    this.#judged.clear();
  }

  async poll(): Promise<PollResult> {
    const snapshot = await this.#o.source.snapshot();
    const plan: Plan = { statements: [], ended: [], started: [], whole: 0, counters: new Map() };
    this.#planEnds(snapshot, plan);
    await this.#planStarts(snapshot, plan);
    const statements = [...this.#held, ...plan.statements];
    // The last moment the open sessions were seen running, for closing them
    // after a crash: kept with every change, and otherwise every few seconds,
    // so an idle agent does not write each second.
    let saveLastSeen = statements.length > 0 ||
      (this.#open.size > 0 && snapshot.at - this.#lastSaved >= LAST_SEEN_EVERY_MS);
    if (saveLastSeen) {
      statements.push(this.#state.setStatement("last_poll", String(snapshot.at)));
    }
    if (statements.length > 0) {
      try {
        await this.#o.lock.run(() => this.#o.db.batch(statements, "write"));
        if (this.#full.since !== 0) this.#spaceBack();
      } catch (error) {
        if (!this.#hold(error, plan)) {
          this.#judged.clear(); // judge again next time what this poll could not store
          throw error;
        }
        saveLastSeen = false;
      }
    }
    this.#apply(snapshot, plan, saveLastSeen);
    return {
      at: snapshot.at,
      started: plan.started.length + plan.whole,
      ended: plan.ended.length + plan.whole,
      open: this.#open.size,
    };
  }

  /**
   * The disk is full: keeps this poll's changes to store later, in order
   * after those held already, unless that would hold too many.
   */
  #hold(error: unknown, plan: Plan): boolean {
    if (!isDiskFull(error)) return false;
    if (this.#held.length + plan.statements.length > MAX_HELD_STATEMENTS) return false;
    if (this.#full.since === 0) {
      this.#full.since = this.#clock.now();
      log.error("disk full: usage kept in memory until space returns", { error });
    }
    this.#held.push(...plan.statements);
    this.#full.started += plan.started.length + plan.whole;
    this.#full.ended += plan.ended.length + plan.whole;
    return true;
  }

  #spaceBack(): void {
    const { since, started, ended } = this.#full;
    log.info("disk space back: usage kept in memory stored", {
      started,
      ended,
      fullSeconds: Math.round((this.#clock.now() - since) / 1000),
    });
    this.#held = [];
    this.#full = { since: 0, started: 0, ended: 0 };
  }

  /** What a stored (or held) poll changes in memory. */
  #apply(snapshot: ProcessSnapshot, plan: Plan, savedLastSeen: boolean): void {
    for (const key of plan.ended) this.#open.delete(key);
    for (const session of plan.started) this.#open.set(processKey(session), session);
    for (const [day, next] of plan.counters) this.#counters.set(day, next);
    for (const key of this.#judged.keys()) {
      if (!snapshot.processes.has(key)) this.#judged.delete(key);
    }
    if (savedLastSeen) this.#lastSaved = snapshot.at;
    this.#lastPoll = snapshot.at;
    this.#firstPoll = false;
  }

  /** Ends sessions whose process is gone; after a restart, at the last poll seen. */
  #planEnds(snapshot: ProcessSnapshot, plan: Plan): void {
    for (const [key, session] of this.#open) {
      const process = session.bootId === snapshot.bootId ? snapshot.processes.get(key) : undefined;
      if (process && process.endMs === undefined) continue;
      const recovered = this.#firstPoll && !process;
      // Its exit's own time where the source saw it; else the first poll without it.
      const end = process?.endMs ??
        (recovered ? Math.max(session.startMs, this.#lastPoll) : snapshot.at);
      plan.statements.push({
        sql: "UPDATE agent_sessions SET end_ms = ?, end_not_captured = ?, written = 0 WHERE id = ?",
        args: [end, recovered ? 1 : 0, session.id],
      });
      plan.ended.push(key);
    }
  }

  async #planStarts(snapshot: ProcessSnapshot, plan: Plan): Promise<void> {
    for (const [key, process] of snapshot.processes) {
      if (this.#open.has(key)) continue;
      if (this.#judged.has(key) && this.#judged.get(key) === process.exe) continue;
      this.#judged.set(key, process.exe);
      if (this.#matcher.candidates(process).length === 0) continue;
      await this.#planSession(process, snapshot, plan);
    }
  }

  async #planSession(p: ProcessInfo, snapshot: ProcessSnapshot, plan: Plan): Promise<void> {
    const details = await this.#o.source.details(p);
    if (!details) return;
    const match = await this.#matcher.match(
      p,
      details,
      () => this.#o.hashOf(p),
      () => p.exe ? this.#o.versionOf(p.exe) : Promise.resolve(null),
    );
    if (!match) return;
    const day = dayOf(p.startMs);
    const seq = plan.counters.get(day) ?? this.#counters.get(day) ?? 1;
    plan.counters.set(day, seq + 1);
    const id = `${day}/${seq}`;
    // A run that began and ended between two polls is stored whole.
    const endMs = p.endMs === undefined ? null : Math.max(p.startMs, p.endMs);
    if (endMs === null) {
      plan.started.push({
        id,
        pid: p.pid,
        startTicks: p.startTicks,
        bootId: snapshot.bootId,
        startMs: p.startMs,
      });
    } else {
      plan.whole++;
    }
    plan.statements.push(
      {
        sql: "INSERT INTO day_counters (day, next) VALUES (?, ?) " +
          "ON CONFLICT (day) DO UPDATE SET next = excluded.next",
        args: [day, seq + 1],
      },
      {
        sql:
          `INSERT INTO agent_sessions (id, day, seq, rule_id, user_name, exe, argv0, version, pid,
          start_ticks, boot_id, start_ms, end_ms, start_not_captured, end_not_captured, remote,
          language) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)`,
        args: [
          id,
          day,
          seq,
          match.rule.id,
          details.user,
          p.exe ?? p.argv0,
          p.argv0,
          match.version,
          p.pid,
          p.startTicks,
          snapshot.bootId,
          p.startMs,
          endMs,
          p.startMs < this.#startedAt ? 1 : 0,
          details.remote ? 1 : 0,
          details.language,
        ],
      },
    );
  }
}

/** The changes one poll makes: stored first, then applied to memory. */
interface Plan {
  statements: InStatement[];
  /** Process keys of sessions that ended. */
  ended: string[];
  started: OpenSession[];
  /** Runs stored started and ended at once (seen whole between two polls). */
  whole: number;
  /** Next session numbers, by day. */
  counters: Map<string, number>;
}
