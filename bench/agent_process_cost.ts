/**
 * What a real agent process costs its computer: a `meter agent` polling
 * every second with 500 processes running, all of them metered (so 500
 * sessions are open), measured from outside through /proc over a minute:
 * CPU as a share of one core, and resident memory. Beside each figure, the
 * same measure of a Deno process that only idles (a timer a second), started
 * and measured in the same window: the runtime's own floor, which no change
 * to the agent can go below.
 *
 * With `processEvents`, the same measure of an agent that takes exec and
 * exit events from the kernel (`--process-events`, root only) instead of
 * reading `/proc` each second: its CPU is held to half of polling's.
 *
 * @module
 */
import { basename, join } from "node:path";
import { type BenchFigure, progress, round } from "./bench_figure.ts";
import { startBenchSite } from "./bench_site.ts";
import { startSleepers, stopSleepers } from "./agent_poll_cost.ts";
import { cpuSeconds, residentMemory } from "./process_stats.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

export interface ProcessCostOptions {
  seconds?: number;
  processes?: number;
  /** An agent with `--process-events` instead of one polling `/proc` at 1 s. */
  processEvents?: boolean;
}

export async function benchAgentProcessCost(
  { seconds = 60, processes = 500, processEvents = false }: ProcessCostOptions = {},
): Promise<BenchFigure[]> {
  const source = processEvents ? "with process events" : "at 1 s polling";
  const dir = await Deno.makeTempDir({ prefix: "meter-bench-agent-" });
  const site = await startBenchSite(dir);
  const sleepers = await startSleepers(processes);
  let agent: Deno.ChildProcess | undefined;
  let idle: Deno.ChildProcess | undefined;
  try {
    await fetch(`${site.url}/v1/rules`, {
      method: "POST",
      headers: { authorization: `Bearer ${site.admin}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "Bench sleepers", fileName: basename(sleepers.program) }),
    });
    agent = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        MAIN,
        "agent",
        "--site",
        site.url,
        "--enroll-token",
        site.enroll,
        "--db",
        join(dir, "agent.db"),
        // The first inventory hashes every program while settling, not in the measured minute.
        "--inventory-hash-mb",
        "100000",
        processEvents ? "--process-events" : "--no-process-events",
      ],
      stdout: "null",
      stderr: "null",
      // As the packaged unit runs it (meter-agent.service).
      env: { METER_LOG_LEVEL: "warn", MALLOC_ARENA_MAX: "2" },
    }).spawn();
    idle = new Deno.Command(Deno.execPath(), {
      args: ["eval", "setInterval(() => {}, 1000)"],
      stdout: "null",
      stderr: "null",
    }).spawn();
    progress(
      `agent process ${source}: settling, then measuring ${seconds} s with ${processes} metered processes`,
    );
    await delay(20_000); // enrol, receive the rule, open every session, sync
    const before = cpuSeconds(agent.pid);
    const idleBefore = cpuSeconds(idle.pid);
    await delay(seconds * 1000);
    const used = cpuSeconds(agent.pid) - before;
    const idleUsed = cpuSeconds(idle.pid) - idleBefore;
    const memory = residentMemory(agent.pid);
    const floor = residentMemory(idle.pid);
    const MB = (bytes: number) => round(bytes / 1e6, 0);
    return [
      {
        name: `agent process CPU ${source}, ${processes} metered processes`,
        value: round((used / seconds) * 100, 2),
        unit: "% of a core",
        baseline: {
          name: "an idle Deno process, % of a core",
          value: round(idleUsed / seconds * 100, 2),
        },
        target: processEvents ? "<= 0.25" : "<= 0.5",
      },
      {
        name: `agent process resident memory${processEvents ? ` ${source}` : ""} (VmRSS)`,
        value: MB(memory.total),
        unit: "MB",
        baseline: { name: "an idle Deno process, MB", value: MB(floor.total) },
        target: "<= 100",
      },
      {
        name: "  of which the agent's own (RssAnon)",
        value: MB(memory.anonymous),
        unit: "MB",
        baseline: { name: "an idle Deno process, MB", value: MB(floor.anonymous) },
        target: "<= 40",
      },
      {
        name: "  of which shared pages of the Deno executable and libraries (RssFile)",
        value: MB(memory.file),
        unit: "MB",
        baseline: { name: "an idle Deno process, MB", value: MB(floor.file) },
      },
    ];
  } finally {
    agent?.kill("SIGTERM");
    await agent?.status;
    idle?.kill("SIGTERM");
    await idle?.status;
    await stopSleepers(sleepers);
    await site.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

if (import.meta.main) {
  const { renderFigures } = await import("./bench_figure.ts");
  const processEvents = Deno.args.includes("--process-events");
  console.log(renderFigures(await benchAgentProcessCost({ processEvents })));
}
