/**
 * What a process costs, read from outside through /proc: CPU seconds used
 * so far, and resident memory split into its own pages and the file-backed
 * ones it shares (the Deno executable, libraries).
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
