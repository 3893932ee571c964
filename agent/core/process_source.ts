/**
 * What the agent knows about a running process, and the interface every
 * process source implements (Linux `/proc` polling and Windows' process
 * list; the kernel's process events on Linux, backed by `/proc`).
 *
 * A process is identified by its pid and start time together, so a pid the
 * kernel reuses is a new process.
 *
 * @module
 */
import type { Rule } from "../../model/rule.ts";

export interface ProcessInfo {
  pid: number;
  /** Start time in clock ticks since boot (`/proc/PID/stat` field 22). */
  startTicks: number;
  /** Start time in ms since the epoch. */
  startMs: number;
  ppid: number;
  /** The kernel's short name of the process (`comm`, 15 characters at most). */
  comm: string;
  /** The executable's path (target of `/proc/PID/exe`); `null` if unreadable. */
  exe: string | null;
  /** argv[0] as the process was started (may be a link's name or a bare name). */
  argv0: string;
  /**
   * The name the program's file says it was built under, which a rename
   * does not change: on Windows its version resource's `OriginalFilename`
   * (`null` when it has none). Where it is missing or `null` (always on
   * Linux), the base name of the real executable, behind any link, serves.
   */
  originalName?: string | null;
  /**
   * When it ended, ms since the epoch, for a process a source saw end
   * between two snapshots (an exit event): such a process is in the next
   * snapshot once, so that a run shorter than the poll interval is still a
   * session, with its exact end.
   */
  endMs?: number;
}

/** Facts read only for processes that match a rule, because they cost more. */
export interface ProcessDetails {
  /** Real user id; -1 where the system has none (Windows). */
  uid: number;
  /** User name for the uid (`uid:<n>` when it has none); `DOMAIN\user` on Windows. */
  user: string;
  /**
   * Started in a remote login session: on Linux one systemd-logind records
   * as remote (ssh, xrdp, VNC), else ssh's traces; a Remote Desktop session
   * on Windows.
   */
  remote: boolean;
  /**
   * The language rules match: on Linux the process's locale (`de` for
   * `LANG=de_DE.UTF-8`), on Windows the language of its program's version
   * resource (`de-DE`); `null` when unknown.
   */
  language: string | null;
}

/** `pid:startTicks`, the identity of a process. */
export function processKey(p: Pick<ProcessInfo, "pid" | "startTicks">): string {
  return `${p.pid}:${p.startTicks}`;
}

export interface ProcessSnapshot {
  /** When the snapshot was taken, ms since the epoch. */
  at: number;
  /** Identifies this boot: start ticks restart from zero at every boot. */
  bootId: string;
  /** Every process running, by {@linkcode processKey}. */
  processes: Map<string, ProcessInfo>;
}

export interface ProcessSource {
  /** Lists the processes running now. */
  snapshot(): Promise<ProcessSnapshot>;
  /** Reads the costlier facts of one process; `undefined` if it has gone. */
  details(process: ProcessInfo): Promise<ProcessDetails | undefined>;
  /**
   * The rules in force, told whenever they change: a source that reads
   * processes as they start may read in full only those a rule may match.
   */
  watchFor?(rules: readonly Rule[]): void;
}
