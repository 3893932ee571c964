/**
 * What each thread of a process is doing, read from `/proc` (state, the
 * kernel function it waits in, and, as root, its kernel stack): printed
 * when a test waited in vain for a process, so a process that hangs says
 * where.
 *
 * @module
 */

/** One line per thread of `pid` (its descendants' too), with the kernel stack of a sleeping one. */
export function threadStates(pid: number): string {
  const lines: string[] = [];
  for (const process of [pid, ...descendants(pid)]) {
    let tasks: Deno.DirEntry[];
    try {
      tasks = [...Deno.readDirSync(`/proc/${process}/task`)];
    } catch {
      lines.push(`${process}: gone`);
      continue;
    }
    for (const task of tasks) {
      const dir = `/proc/${process}/task/${task.name}`;
      const stat = read(`${dir}/stat`);
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const state = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
      lines.push(`${process}/${task.name} ${comm} ${state} wchan=${read(`${dir}/wchan`)}`);
      if (state === "D") lines.push(read(`${dir}/stack`).trimEnd());
    }
  }
  return lines.join("\n");
}

function descendants(pid: number): number[] {
  const children = read(`/proc/${pid}/task/${pid}/children`).trim().split(/\s+/).filter(Boolean)
    .map(Number);
  return children.flatMap((child) => [child, ...descendants(child)]);
}

function read(path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return "?";
  }
}
