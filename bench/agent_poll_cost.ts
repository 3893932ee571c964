/**
 * What polling `/proc` costs the agent: CPU per snapshot with 500 processes
 * running, beside the cost of merely listing `/proc` (the floor any `/proc`
 * poller pays), the share of one core that makes at one poll a second, and
 * (the agent's resident memory is measured on a real agent process, in
 * `agent_process_cost.ts`).
 *
 * It starts 500 real processes (a copy of `sleep` under a unique name, so
 * agents of tests running alongside do not meter them), takes one cold
 * snapshot (every pid read), 10 while the processes are still in the young
 * window (read again each poll, as after a burst of starts), 200 once they are
 * older (the steady state), and 20 with the once-a-minute recheck of every
 * pid, and kills the processes after. It waits 5.5 s for the young window.
 *
 * Run alone with `deno run -A bench/agent_poll_cost.ts`.
 *
 * @module
 */
import process from "node:process";
import { LinuxProcSource } from "../agent/mod.ts";
import { type BenchFigure, round } from "./bench_figure.ts";

// The agent's default: processes this young have their executable read again each poll.
const YOUNG_WINDOW_MS = 5_000;

export interface PollCostOptions {
  processes?: number;
  polls?: number;
}

/** CPU ms (user + system, all threads) per call of `work`, over `times` calls. */
async function cpuMsPerCall(times: number, work: () => unknown): Promise<number> {
  const before = process.cpuUsage();
  for (let i = 0; i < times; i++) await work();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000 / times;
}

export interface Sleepers {
  /** The shell that started the sleepers and will reap them. */
  shell: Deno.ChildProcess;
  dir: string;
  /** The sleepers' program path; its base name is unique to this run. */
  program: string;
}

/**
 * Starts the processes from a shell, not from here, so that this process
 * holds no handle per child and its memory is the agent's alone.
 */
export async function startSleepers(count: number): Promise<Sleepers> {
  const dir = await Deno.makeTempDir({ prefix: "meter-bench-" });
  const program = `${dir}/meter-bench-sleep-${crypto.randomUUID().slice(0, 8)}`;
  await Deno.copyFile("/bin/sleep", program);
  await Deno.chmod(program, 0o755);
  // On SIGTERM the shell kills and reaps every sleeper, then exits.
  const script = [
    "trap 'kill -9 $pids; wait; exit 0' TERM",
    "pids=; i=0",
    `while [ $i -lt ${count} ]; do "$0" 600 >/dev/null 2>&1 & pids="$pids $!"; i=$((i+1)); done`,
    "echo ready",
    "wait",
  ].join("\n");
  const shell = new Deno.Command("sh", {
    args: ["-c", script, program],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = shell.stdout.getReader();
  await reader.read(); // "ready": every sleeper has been started.
  reader.releaseLock();
  return { shell, dir, program };
}

export async function stopSleepers({ shell, dir }: Sleepers): Promise<void> {
  shell.kill("SIGTERM");
  await shell.status;
  await shell.stdout.cancel().catch(() => {});
  await Deno.remove(dir, { recursive: true });
}

function listProc(): number {
  let count = 0;
  for (const entry of Deno.readDirSync("/proc")) {
    const first = entry.name.charCodeAt(0);
    if (first >= 48 && first <= 57) count++;
  }
  return count;
}

export async function benchAgentPollCost(options: PollCostOptions = {}): Promise<BenchFigure[]> {
  const count = options.processes ?? 500;
  const polls = options.polls ?? 200;
  const sleepers = await startSleepers(count);
  try {
    const source = new LinuxProcSource({ youngWindowMs: YOUNG_WINDOW_MS });
    const rechecking = new LinuxProcSource({ recheckMs: 0, youngWindowMs: YOUNG_WINDOW_MS });
    const pids = listProc();
    const firstMs = await cpuMsPerCall(1, () => source.snapshot());
    await rechecking.snapshot();
    // While young, every process is read again each poll: the cost of a burst, not the steady state.
    const youngMs = await cpuMsPerCall(10, () => source.snapshot());
    await new Promise((resolve) => setTimeout(resolve, YOUNG_WINDOW_MS + 500));
    const pollMs = await cpuMsPerCall(polls, () => source.snapshot());
    const listMs = await cpuMsPerCall(polls, listProc);
    const recheckMs = await cpuMsPerCall(20, () => rechecking.snapshot());
    // At one poll a second, plus the full recheck once a minute.
    const corePercent = (pollMs + recheckMs / 60) / 1000 * 100;
    const listing = { name: "readDirSync(/proc) alone", value: round(listMs, 3) };
    return [
      {
        name: `agent poll CPU per snapshot, ${pids} pids`,
        value: round(pollMs, 3),
        unit: "ms",
        baseline: listing,
      },
      {
        name: "agent CPU at 1 s polling, recheck included",
        value: round(corePercent, 3),
        unit: "% of a core",
      },
      { name: "agent first snapshot CPU (every pid read)", value: round(firstMs, 3), unit: "ms" },
      {
        name: "agent snapshot CPU with full recheck (once a minute)",
        value: round(recheckMs, 3),
        unit: "ms",
      },
      { name: "agent snapshot CPU while all are young", value: round(youngMs, 3), unit: "ms" },
    ];
  } finally {
    await stopSleepers(sleepers);
  }
}

if (import.meta.main) {
  console.error("starting 500 processes and polling /proc ...");
  for (const figure of await benchAgentPollCost()) {
    const { baseline: base, unit } = figure;
    const baseline = base ? `  (${base.name}: ${base.value} ${unit})` : "";
    console.log(`${figure.name}: ${figure.value} ${figure.unit}${baseline}`);
  }
}
