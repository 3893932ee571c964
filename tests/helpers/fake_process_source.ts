/**
 * A process source a test drives by hand: it starts and stops processes with
 * the executable, user and start time the test gives, reuses a pid when
 * told, and reboots; snapshots are taken at its clock's time. It lets the
 * session recorder be tested without real programs, and it passes the same
 * conformance suite as the Linux source, so what the recorder is shown
 * matches what a real source reports.
 *
 * @module
 */
import type { Clock } from "../../lib/clock.ts";
import {
  type ProcessDetails,
  type ProcessInfo,
  processKey,
  type ProcessSnapshot,
  type ProcessSource,
} from "../../agent/core/process_source.ts";

/** Start ticks count hundredths of a second since boot, as Linux's usually do. */
const TICK_MS = 10;

export interface FakeProcess {
  exe: string | null;
  /** Defaults to `alice`. */
  user?: string;
  uid?: number;
  remote?: boolean;
  language?: string | null;
  /** Defaults to the executable's file name. */
  argv0?: string;
  /** Defaults to the lowest pid never used. */
  pid?: number;
  ppid?: number;
  /** Defaults to the clock's time now. */
  startMs?: number;
}

interface Running {
  info: ProcessInfo;
  details: ProcessDetails;
}

export class FakeProcessSource implements ProcessSource {
  readonly #clock: Clock;
  readonly #running = new Map<number, Running>();
  #bootId = "boot-1";
  #bootMs: number;
  #nextPid = 1000;
  #boots = 1;
  /** Snapshots taken so far. */
  snapshots = 0;

  constructor(clock: Clock) {
    this.#clock = clock;
    this.#bootMs = clock.now() - 3_600_000;
  }

  get bootId(): string {
    return this.#bootId;
  }

  /** Starts a process; a given pid must not be running. */
  start(p: FakeProcess): ProcessInfo {
    const pid = p.pid ?? this.#nextPid++;
    if (this.#running.has(pid)) throw new Error(`pid ${pid} is running already`);
    const startMs = p.startMs ?? this.#clock.now();
    const startTicks = Math.floor((startMs - this.#bootMs) / TICK_MS);
    const argv0 = p.argv0 ?? p.exe?.split("/").pop() ?? "unknown";
    const info: ProcessInfo = {
      pid,
      startTicks,
      // What a real source reports: the start rounded down to a tick.
      startMs: this.#bootMs + startTicks * TICK_MS,
      ppid: p.ppid ?? 1,
      comm: argv0.slice(0, 15),
      exe: p.exe,
      argv0,
    };
    const user = p.user ?? "alice";
    const details: ProcessDetails = {
      uid: p.uid ?? 1000,
      user,
      remote: p.remote ?? false,
      language: p.language ?? null,
    };
    this.#running.set(pid, { info, details });
    return info;
  }

  /** Ends the process with `pid` (a no-op if none runs). */
  stop(pid: number): void {
    this.#running.delete(pid);
  }

  /** A new boot: every process ends, start ticks count from zero again. */
  reboot(): void {
    this.#running.clear();
    this.#bootId = `boot-${++this.#boots}`;
    this.#bootMs = this.#clock.now();
  }

  snapshot(): Promise<ProcessSnapshot> {
    this.snapshots++;
    const processes = new Map<string, ProcessInfo>();
    for (const { info } of this.#running.values()) processes.set(processKey(info), { ...info });
    return Promise.resolve({ at: this.#clock.now(), bootId: this.#bootId, processes });
  }

  details(process: ProcessInfo): Promise<ProcessDetails | undefined> {
    const running = this.#running.get(process.pid);
    const same = running && processKey(running.info) === processKey(process);
    return Promise.resolve(same ? { ...running.details } : undefined);
  }
}
