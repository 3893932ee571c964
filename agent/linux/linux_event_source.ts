/**
 * Processes from the kernel's process events (`process_events.ts`), backed
 * by `/proc`: exact starts and ends, and runs shorter than a poll.
 *
 * - An **exec** event comes with the new program's `/proc` files, read by
 *   the events' thread the moment it came (`pinned_process.ts`), so a run
 *   already over is still known: its program, then its details (user,
 *   session, locale); its start is the event's time, to the millisecond.
 * - An **exit** event ends the process at the event's time. The next
 *   snapshot holds it once more, with `endMs`, so a run that began and
 *   ended between two polls is still a session.
 * - `/proc` is scanned in full at the first snapshot (programs that were
 *   running before the agent), after the kernel dropped events (`lost`: its
 *   receive buffer overflowed), and every `rescanMs` as a backstop. A scan
 *   adds what events missed and drops what ended unseen; such an end is the
 *   poll's, as with polling.
 *
 * A child forked without an exec runs the same program as its parent and
 * is not a new run: it is not reported until a scan finds it.
 *
 * @module
 */
import { log } from "../../lib/log.ts";
import type { Rule } from "../../model/rule.ts";
import {
  type ProcessDetails,
  type ProcessInfo,
  processKey,
  type ProcessSnapshot,
  type ProcessSource,
} from "../core/process_source.ts";
import type { LinuxProcSource } from "./linux_proc_source.ts";
import type { ProcExecEvent, ProcExitEvent } from "./proc_connector.ts";
import type { ProcEventFeed } from "./process_events.ts";

export interface LinuxEventSourceOptions {
  /** A full `/proc` scan at least this often, as a backstop (ms). */
  rescanMs?: number;
}

export class LinuxEventSource implements ProcessSource {
  readonly #proc: LinuxProcSource;
  readonly #connector: ProcEventFeed;
  readonly #rescanMs: number;
  /** Running processes, by key, and the key of each pid. */
  readonly #running = new Map<string, ProcessInfo>();
  readonly #keyOf = new Map<number, string>();
  /** Processes that ended since the last snapshot, with `endMs`. */
  #ended: ProcessInfo[] = [];
  /**
   * What the `/proc` source may let go of (an ended process, a pinned
   * process's files) once the poll after the next snapshot is over, which
   * may still read their details; and what it may let go of now.
   */
  #releaseNext: (() => void)[] = [];
  #releaseNow: (() => void)[] = [];
  #scanDue = true;
  #lastScan = 0;
  #bootId = "";
  /** Events are handled one batch at a time, in the kernel's order. */
  #handling: Promise<void> = Promise.resolve();
  /** Set when events fail: every snapshot then scans /proc, as polling does. */
  #eventsFailed = false;
  readonly #listening: Promise<void>;
  /** How many times the kernel dropped events; for logs and tests. */
  lostEvents = 0;

  constructor(
    proc: LinuxProcSource,
    connector: ProcEventFeed,
    options: LinuxEventSourceOptions = {},
  ) {
    this.#proc = proc;
    this.#connector = connector;
    this.#rescanMs = options.rescanMs ?? 60_000;
    this.#listening = this.#listen();
  }

  /** Every event before the call is in it: ended runs once, with their ends. */
  async snapshot(): Promise<ProcessSnapshot> {
    await this.#connector.flush?.();
    await this.#handlePending();
    const due = this.#scanDue || this.#eventsFailed ||
      Date.now() - this.#lastScan >= this.#rescanMs;
    if (due) await this.#scan();
    // The poll of the snapshot before is over: what it could read, it has.
    for (const release of this.#releaseNow) release();
    this.#releaseNow = this.#releaseNext;
    this.#releaseNext = [];
    const processes = new Map(this.#running);
    for (const ended of this.#ended.splice(0)) processes.set(processKey(ended), ended);
    return { at: Date.now(), bootId: this.#bootId, processes };
  }

  /**
   * A running process's details; for one that ended, only as the snapshot
   * reported it (with `endMs`), from what was read while it ran or pinned
   * at its exec.
   */
  async details(process: ProcessInfo): Promise<ProcessDetails | undefined> {
    if (process.endMs === undefined && !this.#running.has(processKey(process))) return undefined;
    return await this.#proc.details(process);
  }

  watchFor(rules: readonly Rule[]): void {
    this.#connector.watchFor?.(rules);
  }

  /** Stops listening; the agent calls it when it stops. */
  async close(): Promise<void> {
    await this.#connector.close();
    await this.#listening;
  }

  async #listen(): Promise<void> {
    while (!this.#connector.closed) {
      await this.#connector.wait();
      await this.#handlePending();
    }
  }

  /** Handles what the kernel queued, after any batch already being handled. */
  #handlePending(): Promise<void> {
    this.#handling = this.#handling.then(async () => {
      if (this.#eventsFailed || this.#connector.closed) return;
      try {
        for (const item of this.#connector.take()) {
          if (item.type === "exec") await this.#started(item);
          else if (item.type === "exit") this.#exited(item);
          else this.#lost();
        }
      } catch (error) {
        // Without events the source still works: every snapshot scans /proc.
        this.#eventsFailed = true;
        log.error("process events failed; scanning /proc at every poll", { error });
      }
    });
    return this.#handling;
  }

  async #started(event: ProcExecEvent): Promise<void> {
    const info = await this.#proc.readNow(event.pid, event.pinned);
    const previous = this.#keyOf.get(event.pid);
    if (previous !== undefined) this.#running.delete(previous);
    if (!info) {
      this.#keyOf.delete(event.pid);
      return;
    }
    const key = processKey(info);
    const exact = { ...info, startMs: Math.round(event.time) };
    this.#running.set(key, exact);
    this.#keyOf.set(event.pid, key);
    const { pid, pinned } = event;
    // Its details are read from the pinned files only if a rule may want them: most
    // programs started are not metered, and reading a user and a session costs.
    if (pinned) this.#releaseNext.push(() => this.#proc.unpin(pid, pinned));
    // Without them, read now: a short run is gone by the next poll, and its details with it.
    else await this.#proc.details(exact);
  }

  #exited(event: ProcExitEvent): void {
    const key = this.#keyOf.get(event.pid);
    if (key === undefined) return;
    const process = this.#running.get(key);
    this.#keyOf.delete(event.pid);
    this.#running.delete(key);
    if (!process) return;
    this.#releaseNext.push(() => this.#proc.forgetPid(event.pid, key));
    this.#ended.push({ ...process, endMs: Math.max(process.startMs, Math.round(event.time)) });
  }

  #lost(): void {
    this.lostEvents++;
    this.#scanDue = true;
    log.warn("process events lost (the kernel's buffer overflowed); scanning /proc", {
      times: this.lostEvents,
    });
  }

  /** Takes `/proc` as the truth, keeping the exact starts events gave. */
  async #scan(): Promise<void> {
    this.#scanDue = false;
    const scanned = await this.#proc.snapshot();
    this.#lastScan = scanned.at;
    this.#bootId = scanned.bootId;
    for (const [key, process] of this.#running) {
      if (scanned.processes.has(key)) continue;
      this.#running.delete(key);
      if (this.#keyOf.get(process.pid) === key) this.#keyOf.delete(process.pid);
    }
    for (const [key, process] of scanned.processes) {
      const known = this.#running.get(key);
      this.#running.set(key, known ? { ...process, startMs: known.startMs } : process);
      this.#keyOf.set(process.pid, key);
    }
  }
}
