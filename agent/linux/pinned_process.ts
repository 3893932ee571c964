/**
 * The `/proc` files of one process, read the moment the kernel reports its
 * exec, so that a run of a millisecond (a copy of `/bin/true`) is still known
 * after it ended: its executable link and command line go with its memory at
 * exit, and every file goes once its parent reaps it.
 *
 * The link `exe`, `cmdline` and `environ` are read first: they go at the
 * exit, the others only at the reaping. The events' thread
 * reads these (`process_events_worker.ts`); the `/proc` source then reads a
 * pinned process from them instead of from `/proc`.
 *
 * @module
 */

/** What the agent reads of a process, as it was at its exec; `undefined` where gone. */
export interface PinnedProcess {
  /**
   * Whether its details (user, environment, session) were read too; only
   * the program and `stat` are read of a process no rule can match.
   */
  complete: boolean;
  /** `readlink exe`; `null` when unreadable. */
  exe: string | null;
  stat?: string;
  cmdline?: Uint8Array;
  status?: string;
  environ?: Uint8Array;
  sessionid?: string;
  cgroup?: string;
}

/**
 * Reads process `pid`'s files under `procRoot` now: the program, then the
 * rest only if `wanted` says a rule may match it (by default, always).
 */
export function pinProcess(
  pid: number,
  wanted: (exe: string | null, cmdline: Uint8Array | undefined) => boolean = () => true,
  procRoot = "/proc",
): PinnedProcess {
  const dir = `${procRoot}/${pid}`;
  const exe = attempt(() => Deno.readLinkSync(`${dir}/exe`)) ?? null;
  const cmdline = attempt(() => Deno.readFileSync(`${dir}/cmdline`));
  if (!wanted(exe, cmdline)) {
    return {
      complete: false,
      exe,
      cmdline,
      stat: attempt(() => Deno.readTextFileSync(`${dir}/stat`)),
    };
  }
  return {
    complete: true,
    exe,
    cmdline,
    environ: attempt(() => Deno.readFileSync(`${dir}/environ`)),
    stat: attempt(() => Deno.readTextFileSync(`${dir}/stat`)),
    status: attempt(() => Deno.readTextFileSync(`${dir}/status`)),
    sessionid: attempt(() => Deno.readTextFileSync(`${dir}/sessionid`)),
    cgroup: attempt(() => Deno.readTextFileSync(`${dir}/cgroup`)),
  };
}

function attempt<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}
