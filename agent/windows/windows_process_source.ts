/**
 * The Windows process source: the system's process list each poll, and for
 * each process first seen its full path and the version resource of its
 * executable.
 *
 * A process is keyed by its pid and its creation time (microseconds since
 * 1970), both in the list: Windows reuses pids soon after a process ends,
 * and a reused pid comes with another creation time. So a poll costs one
 * call, and a process is opened once, when first seen, to read its path;
 * no handle is kept. A process Windows is still creating (no creation time
 * yet) is left for the next poll.
 *
 * A process the agent may not open (protected system processes) is reported
 * with its name but no path (`exe: null`): it can match a rule by file name
 * only.
 *
 * There is one boot id: the creation times that key processes are absolute,
 * so they never repeat across boots.
 *
 * @module
 */
import {
  type ProcessDetails,
  type ProcessInfo,
  processKey,
  type ProcessSnapshot,
  type ProcessSource,
} from "../core/process_source.ts";
import { ProgramResources } from "./program_resources.ts";
import { type SystemProcess, SystemProcesses } from "./system_processes.ts";
import { fileTimeMicros, readWide, u32Out, type Win32, win32 } from "./api/win32.ts";
import { sessionIsRemote, userOfProcess } from "./windows_session.ts";

const PROCESS_QUERY_LIMITED_INFORMATION = 0x1000;
const MAX_PATH_CHARS = 32_768;

/** A process reported, with what only Windows tells of it. */
interface Known {
  info: ProcessInfo;
  sessionId: number;
  /** The language of its program's strings, as its version resource says. */
  language: string | null;
}

export interface WindowsProcessSourceOptions {
  resources?: ProgramResources;
}

export class WindowsProcessSource implements ProcessSource {
  readonly #api: Win32;
  readonly #list: SystemProcesses;
  readonly #resources: ProgramResources;
  /** Processes reported, by process key. */
  #known = new Map<string, Known>();
  readonly #details = new Map<string, ProcessDetails>();
  readonly #path = new Uint8Array(MAX_PATH_CHARS * 2);

  constructor(options: WindowsProcessSourceOptions = {}) {
    this.#api = win32();
    this.#list = new SystemProcesses(this.#api);
    this.#resources = options.resources ?? new ProgramResources();
  }

  async snapshot(): Promise<ProcessSnapshot> {
    const at = Date.now();
    const known = new Map<string, Known>();
    for (const process of this.#list.list()) {
      // Pid 0 is the idle process, and a process without a creation time
      // (Wine has given one that is not a time at all) is still being
      // made: neither is a program running yet.
      if (process.pid === 0 || !plausibleStart(process.createdMicros, at)) continue;
      const key = `${process.pid}:${process.createdMicros}`;
      known.set(key, this.#known.get(key) ?? await this.#read(process));
    }
    for (const key of this.#details.keys()) {
      if (!known.has(key)) this.#details.delete(key);
    }
    this.#known = known;
    const processes = new Map<string, ProcessInfo>();
    for (const [key, { info }] of known) processes.set(key, info);
    return { at, bootId: "windows", processes };
  }

  details(process: ProcessInfo): Promise<ProcessDetails | undefined> {
    const key = processKey(process);
    const known = this.#known.get(key);
    if (!known) return Promise.resolve(undefined);
    let details = this.#details.get(key);
    if (!details) {
      details = this.#readDetails(known);
      this.#details.set(key, details);
    }
    return Promise.resolve(details);
  }

  /** Reads what a poll reports of a process first seen. */
  async #read(process: SystemProcess): Promise<Known> {
    const exe = this.#withProcess(process, (handle) => this.#imagePath(handle));
    const resource = exe ? await this.#resources.of(exe) : null;
    const info: ProcessInfo = {
      pid: process.pid,
      startTicks: process.createdMicros,
      startMs: Math.floor(process.createdMicros / 1000),
      ppid: process.ppid,
      comm: process.name,
      exe,
      argv0: process.name,
      originalName: resource?.originalFileName ?? null,
    };
    return { info, sessionId: process.sessionId, language: resource?.language ?? null };
  }

  #readDetails(known: Known): ProcessDetails {
    const user = this.#withProcess(
      { pid: known.info.pid, createdMicros: known.info.startTicks },
      (handle) => userOfProcess(this.#api, handle),
    );
    return {
      uid: -1,
      user: user ?? "unknown",
      remote: sessionIsRemote(this.#api, known.sessionId),
      language: known.language,
    };
  }

  /**
   * Runs `read` on a handle to the process, closed after; `null` when it
   * cannot be opened, or when its pid now names another process.
   */
  #withProcess<T>(
    process: Pick<SystemProcess, "pid" | "createdMicros">,
    read: (handle: Deno.PointerValue) => T | null,
  ): T | null {
    const { kernel32 } = this.#api;
    const handle = kernel32.OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, 0, process.pid);
    if (handle === null) return null;
    try {
      return this.#createdMicros(handle) === process.createdMicros ? read(handle) : null;
    } finally {
      kernel32.CloseHandle(handle);
    }
  }

  #createdMicros(handle: Deno.PointerValue): number {
    const times = new BigUint64Array(4);
    const bytes = new Uint8Array(times.buffer);
    const ok = this.#api.kernel32.GetProcessTimes(
      handle,
      bytes.subarray(0, 8),
      bytes.subarray(8, 16),
      bytes.subarray(16, 24),
      bytes.subarray(24, 32),
    );
    return ok ? fileTimeMicros(times[0]) : -1;
  }

  #imagePath(handle: Deno.PointerValue): string | null {
    const size = u32Out(MAX_PATH_CHARS);
    const ok = this.#api.kernel32.QueryFullProcessImageNameW(handle, 0, this.#path, size);
    return ok ? readWide(this.#path, 0, size[0]) : null;
  }
}

/** 2000-01-01, in microseconds: no process running now started before. */
const EARLIEST_MICROS = 946_684_800_000_000;

/** A creation time a running process can have: after 2000, and not after a day from now. */
function plausibleStart(micros: number, nowMs: number): boolean {
  return micros >= EARLIEST_MICROS && micros <= (nowMs + 86_400_000) * 1000;
}
