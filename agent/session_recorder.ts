/**
 * Turns process snapshots into usage sessions: one session per run of a
 * process that matches a rule, from the process's real start time to the
 * first poll that no longer sees it.
 *
 * Sessions live in the agent's database from the poll that sees them: a
 * restart after a crash reloads the open ones, carries on with those whose
 * process still runs (same pid, same start time, same boot), and closes the
 * others at the last moment the agent saw them, flagged `endNotCaptured`.
 * Processes already running when the agent starts are flagged
 * `startNotCaptured`.
 *
 * @module
 */
import type { Client, InStatement } from "../sync/db.ts";
import { dayOf } from "../sync/doc_id.ts";
import { KeyValueTable } from "../sync/key_value_table.ts";
import type { Mutex } from "../sync/mutex.ts";
import type { Rule } from "../sync/rule.ts";
import {
  type ProcessInfo,
  processKey,
  type ProcessSnapshot,
  type ProcessSource,
} from "./process_source.ts";
import { RuleMatcher } from "./rule_matcher.ts";

/** How often the last-seen time of open sessions is stored when nothing else changes. */
const LAST_SEEN_EVERY_MS = 5_000;

export interface SessionRecorderOptions {
  db: Client;
  source: ProcessSource;
  /** Shared with the usage writer, which reads and marks the same rows. */
  lock: Mutex;
  hashOf: (p: ProcessInfo) => Promise<string | null>;
  versionOf: (exe: string) => Promise<string | null>;
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
  readonly #state: KeyValueTable;
  #matcher = new RuleMatcher([]);
  /** Open sessions by process key. */
  #open = new Map<string, OpenSession>();
  /** Processes already judged against the rules, with the exe judged. */
  #judged = new Map<string, string | null>();
  #counters = new Map<string, number>();
  #firstPoll = true;
  #lastPoll = 0;
  #lastSaved = 0;

  constructor(options: SessionRecorderOptions) {
    this.#o = options;
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

  get openCount(): number {
    return this.#open.size;
  }

  /** New rules: every running process is judged again at the next poll. */
  setRules(rules: readonly Rule[]): void {
    this.#matcher = new RuleMatcher(rules);
    this.#judged.clear();
  }

  async poll(): Promise<PollResult> {
    const snapshot = await this.#o.source.snapshot();
    const statements: InStatement[] = [];
    const ended = this.#endGone(snapshot, statements);
    const started = await this.#startNew(snapshot, statements);
    for (const key of this.#judged.keys()) {
      if (!snapshot.processes.has(key)) this.#judged.delete(key);
    }
    // The last moment the open sessions were seen running, for closing them
    // after a crash: kept with every change, and otherwise every few seconds,
    // so an idle agent does not write each second.
    if (
      statements.length > 0 ||
      (this.#open.size > 0 && snapshot.at - this.#lastSaved >= LAST_SEEN_EVERY_MS)
    ) {
      statements.push(this.#state.setStatement("last_poll", String(snapshot.at)));
      this.#lastSaved = snapshot.at;
    }
    if (statements.length > 0) {
      await this.#o.lock.run(() => this.#o.db.batch(statements, "write"));
    }
    this.#lastPoll = snapshot.at;
    this.#firstPoll = false;
    return { at: snapshot.at, started, ended, open: this.#open.size };
  }

  /** Ends sessions whose process is gone; after a restart, at the last poll seen. */
  #endGone(snapshot: ProcessSnapshot, statements: InStatement[]): number {
    let ended = 0;
    for (const [key, session] of this.#open) {
      const running = session.bootId === snapshot.bootId && snapshot.processes.has(key);
      if (running) continue;
      const recovered = this.#firstPoll;
      const end = recovered ? Math.max(session.startMs, this.#lastPoll) : snapshot.at;
      statements.push({
        sql: "UPDATE agent_sessions SET end_ms = ?, end_not_captured = ?, written = 0 WHERE id = ?",
        args: [end, recovered ? 1 : 0, session.id],
      });
      this.#open.delete(key);
      ended++;
    }
    return ended;
  }

  async #startNew(snapshot: ProcessSnapshot, statements: InStatement[]): Promise<number> {
    let started = 0;
    for (const [key, process] of snapshot.processes) {
      if (this.#open.has(key)) continue;
      if (this.#judged.has(key) && this.#judged.get(key) === process.exe) continue;
      this.#judged.set(key, process.exe);
      if (this.#matcher.candidates(process).length === 0) continue;
      const statement = await this.#sessionFor(process, snapshot);
      if (!statement) continue;
      statements.push(...statement);
      started++;
    }
    return started;
  }

  async #sessionFor(p: ProcessInfo, snapshot: ProcessSnapshot): Promise<InStatement[] | undefined> {
    const details = await this.#o.source.details(p);
    if (!details) return undefined;
    const match = await this.#matcher.match(
      p,
      details,
      () => this.#o.hashOf(p),
      () => p.exe ? this.#o.versionOf(p.exe) : Promise.resolve(null),
    );
    if (!match) return undefined;
    const day = dayOf(p.startMs);
    const seq = this.#counters.get(day) ?? 1;
    this.#counters.set(day, seq + 1);
    const id = `${day}/${seq}`;
    this.#open.set(processKey(p), {
      id,
      pid: p.pid,
      startTicks: p.startTicks,
      bootId: snapshot.bootId,
      startMs: p.startMs,
    });
    return [
      {
        sql: "INSERT INTO day_counters (day, next) VALUES (?, ?) " +
          "ON CONFLICT (day) DO UPDATE SET next = excluded.next",
        args: [day, seq + 1],
      },
      {
        sql:
          `INSERT INTO agent_sessions (id, day, seq, rule_id, user_name, exe, argv0, version, pid,
          start_ticks, boot_id, start_ms, end_ms, start_not_captured, end_not_captured, remote)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, 0, ?)`,
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
          this.#firstPoll ? 1 : 0,
          details.remote ? 1 : 0,
        ],
      },
    ];
  }
}
