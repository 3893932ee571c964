/**
 * The Linux process source: polls `/proc`.
 *
 * Reading every process's files each poll would cost about 10 ms of CPU with
 * 500 processes (each `/proc/PID/stat` about 11 µs, `exe` 4 µs, `cmdline`
 * 6 µs), too much for an agent that polls every second. Only listing `/proc`
 * is done every poll (about 0.5 ms); a pid's files are read when the pid is
 * first seen and the result is kept by pid. Three things can change behind a
 * known pid, and each is checked where it can happen:
 *
 * - **Pid reuse.** Linux hands out pids cyclically (`pid_max`, then around
 *   from 300), so a pid is reused only after the allocator wraps. A wrap is
 *   seen when `/proc/sys/kernel/ns_last_pid` (the last pid handed out) goes
 *   down, or when a pid not seen before is below the highest new pid seen so
 *   far; then the `stat` of every known pid is read once more and a pid whose
 *   start time differs is a new process. (`ns_last_pid` catches the case where
 *   the only pids handed out after a wrap are known ones; it needs
 *   `CONFIG_CHECKPOINT_RESTORE`, which Debian, Ubuntu and Fedora enable. Both
 *   signals miss a wrap only if more than `pid_max` - 300 processes start
 *   between two polls.)
 * - **Exec.** A wrapper script may `exec` the real program soon after it
 *   starts, keeping pid and start time. Processes younger than a short window
 *   have their `exe` and `cmdline` read again every poll (and `stat` when
 *   either changed).
 * - **Exit without reaping.** A process that exited stays listed as a zombie
 *   until its parent reaps it. Once a minute (`recheckMs`) every known pid's
 *   `stat` is read again, which ends zombies and backs up the wrap signals.
 *
 * Kernel threads (flag `PF_KTHREAD` in `stat`) and zombies are kept as known
 * but never reported or read further. A process that vanishes between the
 * listing and the reads is left out; the next poll will not list it.
 *
 * Whether a process is remote is read with its details: systemd-logind's
 * word on its session decides (see `logind_sessions.ts`); without one, the
 * `SSH_*` variables of its environment or an ssh server among its ancestors.
 *
 * Reads are synchronous: each takes microseconds, and async file operations
 * would cost more CPU than the reads themselves.
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
import { UserNames } from "./user_names.ts";
import { readTextOrUndefined } from "./read_text.ts";
import { LogindSessions } from "./logind_sessions.ts";
import type { PinnedProcess } from "./pinned_process.ts";

export interface LinuxProcSourceOptions {
  /** Where procfs is mounted; `/proc` unless a test points at a fixture. */
  procRoot?: string;
  /** Processes younger than this have their executable read again each poll (ms). */
  youngWindowMs?: number;
  /**
   * Every this many ms the `stat` of every known pid is read again (about 7 ms
   * of CPU with 500 processes), to end processes that became zombies their
   * parent does not reap, and as a backstop should a pid wrap go unseen.
   */
  recheckMs?: number;
  /** Clock ticks per second; `getconf CLK_TCK` (else 100) when omitted. */
  clockTicks?: number;
  /** Resolves uids to names; one is created when omitted. */
  userNames?: UserNames;
  /**
   * Where systemd-logind keeps its session files; `/run/systemd/sessions`
   * unless a test points at a folder of its own.
   */
  sessionsDir?: string;
}

/** The fields of `/proc/PID/stat` the agent uses. */
export interface ProcStat {
  pid: number;
  comm: string;
  /** `R`, `S`, `D`, `Z` (zombie), ... */
  state: string;
  ppid: number;
  /** The kernel's `PF_*` flags. */
  flags: number;
  startTicks: number;
}

/** What is kept about a pid between polls. */
interface Known {
  key: string;
  stat: ProcStat;
  startMs: number;
  /** Reported processes only; `null` for kernel threads and zombies. */
  info: ProcessInfo | null;
}

const PF_KTHREAD = 0x00200000;
const SSH_VARIABLES = ["SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY"];
// OpenSSH 9.8 runs each connection in `sshd-session` under the `sshd` listener.
const SSHD_NAMES = new Set(["sshd", "sshd-session"]);
const MAX_ANCESTORS = 128;
const decoder = new TextDecoder();

export class LinuxProcSource implements ProcessSource {
  readonly #root: string;
  readonly #youngWindowMs: number;
  readonly #recheckMs: number;
  readonly #userNames: UserNames;
  readonly #sessions: LogindSessions;
  #clockTicks: number | undefined;
  #bootId: string | undefined;
  readonly #known = new Map<number, Known>();
  #highestPid = 0;
  #lastPid: number | undefined;
  #lastRecheck = 0;
  #boot: { at: number; ms: number } | undefined;
  readonly #details = new Map<string, ProcessDetails>();
  /** Files read at an exec, by pid: they stand for `/proc` until its details are read. */
  readonly #pinned = new Map<number, PinnedProcess>();

  constructor(options: LinuxProcSourceOptions = {}) {
    this.#root = options.procRoot ?? "/proc";
    this.#youngWindowMs = options.youngWindowMs ?? 5_000;
    this.#recheckMs = options.recheckMs ?? 60_000;
    this.#clockTicks = options.clockTicks;
    this.#userNames = options.userNames ?? new UserNames();
    this.#sessions = new LogindSessions({ sessionsDir: options.sessionsDir });
  }

  async snapshot(): Promise<ProcessSnapshot> {
    const bootId = await this.#initialise();
    const at = Date.now();
    const lastPid = this.#readLastPid();
    const listed = this.#listPids();
    this.#forgetVanished(listed);
    const fresh = listed.filter((pid) => !this.#known.has(pid));
    const recheckAll = this.#wrapped(fresh, lastPid) || at - this.#lastRecheck >= this.#recheckMs;
    if (recheckAll) this.#lastRecheck = at;
    fresh.push(...this.#recheck(at, recheckAll));
    let bootMs: number | undefined;
    for (const pid of fresh) {
      bootMs ??= this.#bootMs();
      const known = this.#readProcess(pid, bootMs);
      if (known) this.#known.set(pid, known);
    }
    return { at, bootId, processes: this.#reported() };
  }

  /**
   * Reads one process now, as a snapshot would, and keeps it as known: for
   * an event source that learns of a new program from its exec and must
   * read it before a short run ends. `undefined` once it has gone (or for
   * a kernel thread or a zombie). With `pinned`, the files read at the exec
   * stand for `/proc` (the run may be over already) until {@linkcode unpin}.
   */
  async readNow(pid: number, pinned?: PinnedProcess): Promise<ProcessInfo | undefined> {
    await this.#initialise();
    if (pinned) this.#pinned.set(pid, pinned);
    else this.#pinned.delete(pid);
    const known = this.#readProcess(pid, this.#bootMs());
    if (!known) {
      this.#pinned.delete(pid);
      return undefined;
    }
    const previous = this.#known.get(pid);
    if (previous) this.#forget(pid, previous);
    // An exec in the same process (same key) may change its user and
    // environment: what was read of the program before is not kept.
    this.#details.delete(known.key);
    this.#known.set(pid, known);
    return known.info ?? undefined;
  }

  /** Drops what is kept of `pid` (when given: only if it is still process `key`), which ended. */
  forgetPid(pid: number, key?: string): void {
    const known = this.#known.get(pid);
    if (known && (key === undefined || known.key === key)) this.#forget(pid, known);
  }

  /** Lets go of files pinned for `pid`, unless a later exec pinned others. */
  unpin(pid: number, pinned: PinnedProcess): void {
    if (this.#pinned.get(pid) === pinned) this.#pinned.delete(pid);
  }

  async details(process: ProcessInfo): Promise<ProcessDetails | undefined> {
    const key = processKey(process);
    const cached = this.#details.get(key);
    if (cached) return cached;
    // Pinned without its details (no rule matched it then): they come from /proc now.
    if (this.#pinned.get(process.pid)?.complete === false) this.#pinned.delete(process.pid);
    const details = await this.#readDetails(process);
    if (details) this.#details.set(key, details);
    return details;
  }

  async #initialise(): Promise<string> {
    this.#clockTicks ??= await readClockTicks();
    this.#bootId ??= readTextOrUndefined(`${this.#root}/sys/kernel/random/boot_id`)?.trim() ||
      "unknown";
    return this.#bootId;
  }

  #listPids(): number[] {
    const pids: number[] = [];
    for (const entry of Deno.readDirSync(this.#root)) {
      const first = entry.name.charCodeAt(0);
      if (first >= 48 && first <= 57) pids.push(Number(entry.name));
    }
    return pids;
  }

  #forgetVanished(listed: number[]): void {
    if (listed.length === this.#known.size) {
      // Same count and every listed pid known means none vanished.
      if (listed.every((pid) => this.#known.has(pid))) return;
    }
    const present = new Set(listed);
    for (const [pid, known] of this.#known) {
      if (!present.has(pid)) this.#forget(pid, known);
    }
  }

  /** The last pid the kernel handed out, or `undefined` without `ns_last_pid`. */
  #readLastPid(): number | undefined {
    const text = readTextOrUndefined(`${this.#root}/sys/kernel/ns_last_pid`);
    const pid = text === undefined ? NaN : Number(text.trim());
    return Number.isInteger(pid) ? pid : undefined;
  }

  /** Whether the pid allocator wrapped since the last poll (see the module comment). */
  #wrapped(fresh: number[], lastPid: number | undefined): boolean {
    const previousLast = this.#lastPid;
    this.#lastPid = lastPid;
    const firstPoll = this.#highestPid === 0;
    let highestBelow = 0;
    let highest = this.#highestPid;
    for (const pid of fresh) {
      if (pid < this.#highestPid && pid > highestBelow) highestBelow = pid;
      if (pid > highest) highest = pid;
    }
    // After a wrap the newest pids are the ones below the old highest.
    this.#highestPid = highestBelow > 0 ? highestBelow : highest;
    if (firstPoll) return false;
    const lastWentDown = previousLast !== undefined && lastPid !== undefined &&
      lastPid < previousLast;
    return highestBelow > 0 || lastWentDown;
  }

  /**
   * Reads `stat` again for every known pid (`all`), and `exe` and `cmdline`
   * for the young ones. Returns the pids now held by another process, to be
   * read as new.
   */
  #recheck(at: number, all: boolean): number[] {
    const reused: number[] = [];
    for (const [pid, known] of this.#known) {
      const young = at - known.startMs < this.#youngWindowMs && !isKernelThread(known.stat);
      if (all) {
        const stat = this.#readStat(pid);
        if (stat?.startTicks !== known.stat.startTicks) {
          this.#forget(pid, known);
          if (stat) reused.push(pid);
        } else if (!this.#update(known, stat, young)) {
          this.#forget(pid, known);
        }
      } else if (young && this.#execed(pid, known)) {
        // Rare: `stat` too, for the new `comm` and to be sure the pid is the same process.
        const stat = this.#readStat(pid);
        const same = stat?.startTicks === known.stat.startTicks;
        if (!same || !this.#update(known, stat, true)) this.#forget(pid, known);
      }
    }
    return reused;
  }

  /** Whether the executable or argv[0] differs from what is known (or the process vanished). */
  #execed(pid: number, known: Known): boolean {
    const exe = this.#readExe(pid);
    const argv0 = this.#readArgv0(pid);
    if (argv0 === undefined) return true;
    const info = known.info;
    return info ? info.exe !== exe || info.argv0 !== argv0 : exe !== null || argv0 !== "";
  }

  /** Takes a fresh `stat` of the same process; false if the process vanished meanwhile. */
  #update(known: Known, stat: ProcStat, young: boolean): boolean {
    known.stat = stat;
    if (isKernelThread(stat)) return true;
    if (isDead(stat)) {
      // An exited process its parent has not reaped yet: its run is over.
      known.info = null;
      return true;
    }
    if (young) return this.#readExecutable(known);
    const info = known.info;
    if (info && (info.ppid !== stat.ppid || info.comm !== stat.comm)) {
      known.info = { ...info, ppid: stat.ppid, comm: stat.comm };
    }
    return true;
  }

  #forget(pid: number, known: Known): void {
    this.#known.delete(pid);
    this.#details.delete(known.key);
  }

  /** Everything about a pid seen for the first time; `undefined` if it vanished. */
  #readProcess(pid: number, bootMs: number): Known | undefined {
    const stat = this.#readStat(pid);
    if (!stat) return undefined;
    const startMs = Math.round(bootMs + stat.startTicks * 1000 / this.#clockTicks!);
    const known: Known = {
      key: processKey({ pid, startTicks: stat.startTicks }),
      stat,
      startMs,
      info: null,
    };
    if (isKernelThread(stat) || isDead(stat)) return known;
    return this.#readExecutable(known) ? known : undefined;
  }

  /** Reads `exe` and argv[0] into `known.info`; false if the process vanished. */
  #readExecutable(known: Known): boolean {
    const { pid } = known.stat;
    const exe = this.#readExe(pid);
    const argv0 = this.#readArgv0(pid);
    if (argv0 === undefined) return false;
    // No executable and no arguments: a process exiting, nothing to meter.
    if (exe === null && argv0 === "") {
      known.info = null;
      return true;
    }
    const { stat, startMs } = known;
    const info = known.info;
    if (
      info && info.exe === exe && info.argv0 === argv0 && info.comm === stat.comm &&
      info.ppid === stat.ppid
    ) return true;
    known.info = {
      pid,
      startTicks: stat.startTicks,
      startMs,
      ppid: stat.ppid,
      comm: stat.comm,
      exe,
      argv0,
    };
    return true;
  }

  #reported(): Map<string, ProcessInfo> {
    const processes = new Map<string, ProcessInfo>();
    for (const known of this.#known.values()) {
      if (known.info) processes.set(known.key, known.info);
    }
    return processes;
  }

  /** A file of `pid` as pinned at its exec, else as `/proc` has it now. */
  #procText(pid: number, name: "stat" | "status" | "sessionid" | "cgroup"): string | undefined {
    const pinned = this.#pinned.get(pid);
    return pinned ? pinned[name] : readTextOrUndefined(`${this.#root}/${pid}/${name}`);
  }

  #readStat(pid: number): ProcStat | undefined {
    const text = this.#procText(pid, "stat");
    return text === undefined ? undefined : parseStat(text);
  }

  /** The executable's path; `null` when hidden from us (another user's process) or absent. */
  #readExe(pid: number): string | null {
    const pinned = this.#pinned.get(pid);
    if (pinned) return withoutDeleted(pinned.exe);
    try {
      return withoutDeleted(Deno.readLinkSync(`${this.#root}/${pid}/exe`));
    } catch {
      return null;
    }
  }

  /** argv[0] from `cmdline`; `""` when empty; `undefined` if the process vanished. */
  #readArgv0(pid: number): string | undefined {
    const pinned = this.#pinned.get(pid);
    let bytes: Uint8Array;
    try {
      bytes = pinned
        ? pinned.cmdline ?? new Uint8Array()
        : Deno.readFileSync(`${this.#root}/${pid}/cmdline`);
    } catch {
      return undefined;
    }
    const end = bytes.indexOf(0);
    return decoder.decode(end < 0 ? bytes : bytes.subarray(0, end));
  }

  /**
   * The wall-clock time of boot: `/proc/uptime` has 10 ms precision, `btime`
   * whole seconds. Read at most once a second: an event source asks at
   * every exec.
   */
  #bootMs(): number {
    const now = Date.now();
    if (this.#boot && now - this.#boot.at < 1000) return this.#boot.ms;
    const uptime = Number(readTextOrUndefined(`${this.#root}/uptime`)?.split(" ")[0]);
    this.#boot = { at: now, ms: now - (Number.isFinite(uptime) ? uptime * 1000 : 0) };
    return this.#boot.ms;
  }

  async #readDetails(process: ProcessInfo): Promise<ProcessDetails | undefined> {
    const { pid } = process;
    const uid = parseRealUid(this.#procText(pid, "status"));
    if (uid === undefined) return undefined;
    const environment = this.#readEnvironment(pid);
    if (environment === undefined) return undefined;
    // logind knows every PAM login (xrdp and VNC too); ssh's traces serve where it says nothing.
    const remote = this.#sessions.remote(
      this.#procText(pid, "sessionid"),
      this.#procText(pid, "cgroup"),
    ) ??
      (SSH_VARIABLES.some((name) => environment.get(name)) || this.#hasSshdAncestor(process.ppid));
    // Read after the rest: a pid reused meanwhile would show another start time.
    if (this.#readStat(pid)?.startTicks !== process.startTicks) return undefined;
    const user = await this.#userNames.name(uid);
    return { uid, user, remote, language: localeLanguage(environment) };
  }

  /** The initial environment; empty when not ours to read, `undefined` if gone. */
  #readEnvironment(pid: number): Map<string, string> | undefined {
    const pinned = this.#pinned.get(pid);
    // A run over before its environment was read is still metered, with none.
    if (pinned) return parseEnviron(pinned.environ ?? new Uint8Array());
    try {
      return parseEnviron(Deno.readFileSync(`${this.#root}/${pid}/environ`));
    } catch (error) {
      return error instanceof Deno.errors.PermissionDenied ? new Map() : undefined;
    }
  }

  /** Walks the parents, from cached `stat` where known, looking for an ssh server. */
  #hasSshdAncestor(ppid: number): boolean {
    let pid = ppid;
    for (let step = 0; step < MAX_ANCESTORS && pid > 1; step++) {
      const stat = this.#known.get(pid)?.stat ?? this.#readStat(pid);
      if (!stat) return false;
      if (SSHD_NAMES.has(stat.comm)) return true;
      pid = stat.ppid;
    }
    return false;
  }
}

/**
 * Parses `/proc/PID/stat`. `comm` sits in parentheses and may itself hold
 * spaces and `)`, so the fields after it start after the last `)`.
 */
export function parseStat(text: string): ProcStat | undefined {
  const open = text.indexOf("(");
  const close = text.lastIndexOf(")");
  if (open < 1 || close < open) return undefined;
  // After `)`: state is field 3, so field n is at index n - 3.
  const fields = text.slice(close + 2).split(" ");
  const stat = {
    pid: Number(text.slice(0, open).trim()),
    comm: text.slice(open + 1, close),
    state: fields[0] ?? "",
    ppid: Number(fields[1]),
    flags: Number(fields[6]),
    startTicks: Number(fields[19]),
  };
  const numbers = [stat.pid, stat.ppid, stat.flags, stat.startTicks];
  return numbers.every(Number.isInteger) && stat.state !== "" ? stat : undefined;
}

/** The real uid from the `Uid:` line of `/proc/PID/status` (real, effective, saved, fs). */
export function parseRealUid(status: string | undefined): number | undefined {
  const match = status?.match(/^Uid:\s+(\d+)/m);
  return match ? Number(match[1]) : undefined;
}

/** `/proc/PID/environ`: `NAME=value` entries separated by NUL. */
export function parseEnviron(bytes: Uint8Array): Map<string, string> {
  const environment = new Map<string, string>();
  for (const entry of decoder.decode(bytes).split("\0")) {
    const equals = entry.indexOf("=");
    if (equals > 0) environment.set(entry.slice(0, equals), entry.slice(equals + 1));
  }
  return environment;
}

/**
 * The language of the locale that decides message language, as POSIX orders
 * it (`LC_ALL`, then `LC_MESSAGES`, then `LANG`; empty means unset):
 * `de_DE.UTF-8` → `de`. `C` and `POSIX` name no language.
 */
export function localeLanguage(environment: Map<string, string>): string | null {
  const locale = ["LC_ALL", "LC_MESSAGES", "LANG"].map((name) => environment.get(name))
    .find((value) => value);
  const language = locale?.split(/[_.@]/)[0].toLowerCase() ?? "";
  return language === "" || language === "c" || language === "posix" ? null : language;
}

function isKernelThread(stat: ProcStat): boolean {
  return (stat.flags & PF_KTHREAD) !== 0;
}

/** A zombie (`Z`) or one being torn down (`X`). */
function isDead(stat: ProcStat): boolean {
  return stat.state === "Z" || stat.state === "X";
}

async function readClockTicks(): Promise<number> {
  try {
    const output = await new Deno.Command("getconf", {
      args: ["CLK_TCK"],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).output();
    const ticks = Number(decoder.decode(output.stdout).trim());
    return output.success && Number.isInteger(ticks) && ticks > 0 ? ticks : 100;
  } catch {
    // Not installed or not permitted: 100 is the value on every common architecture.
    return 100;
  }
}

/** A deleted or replaced file (a package upgrade) still has its name. */
function withoutDeleted(target: string | null): string | null {
  return target?.endsWith(" (deleted)") ? target.slice(0, -" (deleted)".length) : target;
}
