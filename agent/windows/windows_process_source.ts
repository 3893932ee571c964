/**
 * The Windows process source: a Toolhelp snapshot of the processes each
 * poll, and for each process first seen its full path, start time and the
 * version resource of its executable.
 *
 * A process is keyed by its pid and its creation time (in microseconds since
 * 1970). Windows reuses pids soon after a process ends, but never while a
 * handle to the process is open; so the source keeps one handle (query
 * access only) to every process it reports, and closes it once the process
 * has left the snapshot. A pid listed again while its handle is held is the
 * same process, and a poll costs one snapshot, not a call per process.
 *
 * A process the agent may not open (protected system processes) is reported
 * with its name but no path (`exe: null`) and start time 0: it can match a
 * rule by file name only.
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
import { fileTimeMicros, readWide, u32Out, type Win32, win32 } from "./win32.ts";
import { sessionIsRemote, userOfProcess } from "./windows_session.ts";

const TH32CS_SNAPPROCESS = 0x2;
const PROCESS_QUERY_LIMITED_INFORMATION = 0x1000;
/** `sizeof(PROCESSENTRY32W)` on 64-bit Windows, and its fields' offsets. */
const ENTRY_SIZE = 568;
const ENTRY_PID = 8;
const ENTRY_PARENT = 32;
const ENTRY_EXE_FILE = 44;
const MAX_PATH_CHARS = 32_768;

/** A process being watched, with the handle that keeps its pid from reuse. */
interface Watched {
  info: ProcessInfo;
  handle: Deno.PointerValue;
  /** The language of its program's strings, as its version resource says. */
  language: string | null;
}

export interface WindowsProcessSourceOptions {
  resources?: ProgramResources;
}

export class WindowsProcessSource implements ProcessSource {
  readonly #api: Win32;
  readonly #resources: ProgramResources;
  readonly #watched = new Map<number, Watched>();
  readonly #details = new Map<string, ProcessDetails>();
  readonly #entry = new Uint8Array(ENTRY_SIZE);
  readonly #path = new Uint8Array(MAX_PATH_CHARS * 2);

  constructor(options: WindowsProcessSourceOptions = {}) {
    this.#api = win32();
    this.#resources = options.resources ?? new ProgramResources();
  }

  async snapshot(): Promise<ProcessSnapshot> {
    const at = Date.now();
    const listed = this.#list();
    for (const [pid, watched] of this.#watched) {
      if (!listed.has(pid)) this.#forget(pid, watched);
    }
    for (const [pid, entry] of listed) {
      if (!this.#watched.has(pid)) this.#watched.set(pid, await this.#open(pid, entry));
    }
    const processes = new Map<string, ProcessInfo>();
    for (const { info } of this.#watched.values()) processes.set(processKey(info), info);
    return { at, bootId: "windows", processes };
  }

  details(process: ProcessInfo): Promise<ProcessDetails | undefined> {
    const key = processKey(process);
    const watched = this.#watched.get(process.pid);
    if (!watched || processKey(watched.info) !== key) return Promise.resolve(undefined);
    let details = this.#details.get(key);
    if (!details) {
      details = this.#readDetails(watched);
      this.#details.set(key, details);
    }
    return Promise.resolve(details);
  }

  /** Closes every handle the source holds. */
  close(): void {
    for (const [pid, watched] of this.#watched) this.#forget(pid, watched);
  }

  /** The processes running now, by pid, with their parent and executable name. */
  #list(): Map<number, { ppid: number; name: string }> {
    const { kernel32 } = this.#api;
    const snapshot = kernel32.CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0);
    if (isInvalid(snapshot)) throw new Error("CreateToolhelp32Snapshot failed");
    const listed = new Map<number, { ppid: number; name: string }>();
    try {
      const entry = this.#entry;
      const view = new DataView(entry.buffer);
      view.setUint32(0, ENTRY_SIZE, true);
      let more = kernel32.Process32FirstW(snapshot, entry);
      while (more) {
        const pid = view.getUint32(ENTRY_PID, true);
        // Pid 0 is the idle process, not a program.
        if (pid !== 0) {
          listed.set(pid, {
            ppid: view.getUint32(ENTRY_PARENT, true),
            name: readWide(entry, ENTRY_EXE_FILE, 260),
          });
        }
        view.setUint32(0, ENTRY_SIZE, true);
        more = kernel32.Process32NextW(snapshot, entry);
      }
    } finally {
      kernel32.CloseHandle(snapshot);
    }
    return listed;
  }

  /** Opens a new process and reads what a poll reports of it. */
  async #open(pid: number, entry: { ppid: number; name: string }): Promise<Watched> {
    const { kernel32 } = this.#api;
    const handle = kernel32.OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, 0, pid);
    const startMicros = handle === null ? 0 : this.#creationMicros(handle);
    const exe = handle === null ? null : this.#imagePath(handle);
    const resource = exe ? await this.#resources.of(exe) : null;
    const info: ProcessInfo = {
      pid,
      startTicks: startMicros,
      startMs: Math.floor(startMicros / 1000),
      ppid: entry.ppid,
      comm: entry.name,
      exe,
      argv0: entry.name,
      originalName: resource?.originalFileName ?? null,
    };
    return { info, handle, language: resource?.language ?? null };
  }

  #creationMicros(handle: Deno.PointerValue): number {
    const times = new Uint32Array(8);
    const ok = this.#api.kernel32.GetProcessTimes(
      handle,
      times.subarray(0, 2),
      times.subarray(2, 4),
      times.subarray(4, 6),
      times.subarray(6, 8),
    );
    return ok ? fileTimeMicros(times.subarray(0, 2)) : 0;
  }

  #imagePath(handle: Deno.PointerValue): string | null {
    const size = u32Out(MAX_PATH_CHARS);
    const ok = this.#api.kernel32.QueryFullProcessImageNameW(handle, 0, this.#path, size);
    return ok ? readWide(this.#path, 0, size[0]) : null;
  }

  #readDetails(watched: Watched): ProcessDetails {
    const { info, handle, language } = watched;
    const session = u32Out();
    const inSession = this.#api.kernel32.ProcessIdToSessionId(info.pid, session) !== 0;
    const user = handle === null ? null : userOfProcess(this.#api, handle);
    return {
      uid: -1,
      user: user ?? "unknown",
      remote: inSession && sessionIsRemote(this.#api, session[0]),
      language,
    };
  }

  #forget(pid: number, watched: Watched): void {
    if (watched.handle !== null) this.#api.kernel32.CloseHandle(watched.handle);
    this.#watched.delete(pid);
    this.#details.delete(processKey(watched.info));
  }
}

/** `INVALID_HANDLE_VALUE` is -1, which `pointer` results give as all bits set. */
function isInvalid(handle: Deno.PointerValue): boolean {
  if (handle === null) return true;
  return Deno.UnsafePointer.value(handle) === 0xffff_ffff_ffff_ffffn;
}
