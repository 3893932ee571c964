/**
 * What a process costs, read from outside through /proc: CPU seconds used
 * so far, resident memory split into its own pages and the file-backed
 * ones it shares (the Deno executable, libraries), open files, and both
 * sampled over time while a load runs.
 *
 * @module
 */

/** CPU seconds (user + system, every thread) the process has used. */
export function cpuSeconds(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Resident memory in bytes: total, the process's own, and shared file pages. */
export function residentMemory(pid: number) {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const kB = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)![1]) * 1024;
  return { total: kB("VmRSS"), anonymous: kB("RssAnon"), file: kB("RssFile") };
}

/**
 * Resident bytes of the native heap (the `[heap]` mapping that malloc grows):
 * SQLite's page cache, the HTTP server's buffers and other native memory,
 * apart from the JavaScript heap and WebAssembly memory, which are mapped
 * on their own.
 */
export function nativeHeap(pid: number): number {
  const smaps = Deno.readTextFileSync(`/proc/${pid}/smaps`);
  const heap = /\[heap\]\n(?:.*\n)*?Rss:\s+(\d+) kB/.exec(smaps);
  return heap ? Number(heap[1]) * 1024 : 0;
}

export interface ProcessSample {
  /** ms since the sampling began. */
  atMs: number;
  rssBytes: number;
  /** Of which its own pages (heap, Wasm memory, SQLite's page cache), not shared file pages. */
  anonBytes: number;
  /** Of which the native heap ({@linkcode nativeHeap}). */
  nativeHeapBytes: number;
  /** Open file descriptors: its listening and accepted sockets among them. */
  fds: number;
}

/** Open file descriptors of the process. */
export function openFiles(pid: number): number {
  let count = 0;
  for (const _ of Deno.readDirSync(`/proc/${pid}/fd`)) count++;
  return count;
}

/**
 * Samples the resident memory and open files of `pid` every `everyMs` in
 * the background (and once at once); `stop` ends it and gives the samples.
 * A process that went away ends the sampling. A sample that cannot be read
 * otherwise is left out: a driver holding tens of thousands of connections
 * can itself run out of open files for a moment.
 */
export function sampleProcess(pid: number, everyMs: number): { stop(): ProcessSample[] } {
  const samples: ProcessSample[] = [];
  const started = performance.now();
  const sample = () => {
    try {
      const memory = residentMemory(pid);
      samples.push({
        atMs: performance.now() - started,
        rssBytes: memory.total,
        anonBytes: memory.anonymous,
        nativeHeapBytes: nativeHeap(pid),
        fds: openFiles(pid),
      });
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) clearInterval(timer);
    }
  };
  const timer = setInterval(sample, everyMs);
  sample();
  return {
    stop() {
      clearInterval(timer);
      return samples;
    },
  };
}

/** The processes `pid` started that are still alive (its direct children). */
export function childPids(pid: number): number[] {
  try {
    const text = Deno.readTextFileSync(`/proc/${pid}/task/${pid}/children`).trim();
    return text ? text.split(" ").map(Number) : [];
  } catch {
    return [];
  }
}

/** CPU seconds so far of `pid` and of each of its children (a site's query processes), by pid. */
export function treeCpu(pid: number): Map<number, number> {
  const seconds = new Map<number, number>();
  for (const id of [pid, ...childPids(pid)]) {
    try {
      seconds.set(id, cpuSeconds(id));
    } catch { /* ended while we looked */ }
  }
  return seconds;
}

/**
 * CPU seconds that `pid` and its children used since `before` was taken
 * with {@linkcode treeCpu}: a process that ended since adds nothing, one
 * started since adds all it used.
 */
export function treeCpuSince(pid: number, before: Map<number, number>): number {
  let used = 0;
  for (const [id, now] of treeCpu(pid)) used += now - (before.get(id) ?? 0);
  return used;
}

/** The highest resident memory `pid` has had (`VmHWM`), bytes; 0 when it has ended. */
export function peakResident(pid: number): number {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}
