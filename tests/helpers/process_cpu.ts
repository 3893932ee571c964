/**
 * CPU time of a process and of every process below it, from `/proc`: what a
 * test needs to tell that work it started has really stopped, wherever it
 * runs (a query process, a worker thread or the process itself).
 *
 * @module
 */

interface Stat {
  pid: number;
  ppid: number;
  /** User plus system time, in clock ticks. */
  ticks: number;
}

function readStat(pid: number): Stat | undefined {
  try {
    const text = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return { pid, ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return undefined; // ended while we looked
  }
}

/** CPU seconds used so far by `pid` and its live descendants (ticks of 10 ms). */
export function treeCpuSeconds(pid = Deno.pid): number {
  const stats: Stat[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    const stat = /^\d+$/.test(entry.name) ? readStat(Number(entry.name)) : undefined;
    if (stat) stats.push(stat);
  }
  const inTree = new Set([pid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const stat of stats) {
      if (!inTree.has(stat.pid) && inTree.has(stat.ppid)) grew = inTree.add(stat.pid) !== undefined;
    }
  }
  return stats.filter((stat) => inTree.has(stat.pid)).reduce((sum, s) => sum + s.ticks, 0) / 100;
}

/** The peak resident memory (`VmHWM`) of `pid` in MiB, or 0 when it has ended. */
export function peakResidentMiB(pid: number): number {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}

/** The current resident memory (`VmRSS`) of `pid` in MiB, or 0 when it has ended. */
export function residentMiB(pid = Deno.pid): number {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}
