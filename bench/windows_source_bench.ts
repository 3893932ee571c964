/**
 * What the Windows process source costs, measured under Wine on this Linux
 * machine, beside the Linux `/proc` source with as many processes on the
 * same machine: CPU per steady snapshot (nothing new), and for one cold
 * snapshot (every process new). Under Wine each Windows call is answered by
 * the wineserver, a separate process, so its CPU during the steady
 * snapshots is given too. Wine's speed is not Windows': these figures say
 * the source does little work per poll, not what it costs on Windows.
 *
 * It uses the tests' Windows environment (`tests/helpers/wine.ts`), made
 * on first use (a minute or so); without Wine it says so and gives nothing.
 *
 * @module
 */
import process from "node:process";
import { LinuxProcSource } from "../agent/mod.ts";
import { startSleepers, stopSleepers } from "./agent_poll_cost.ts";
import { type BenchFigure, progress, round } from "./bench_figure.ts";
import { hasTool, WINE } from "../tests/helpers/system_tools.ts";
import { buildMeteredTool } from "../tests/helpers/windows_metered_tool.ts";
import {
  prepareWine,
  runWindowsDeno,
  stopWine,
  windowsFixture,
  windowsPath,
} from "../tests/helpers/wine.ts";

const PROCESSES = 100;
const POLLS = 100;
// The Linux source reads young processes again each poll; wait them out.
const YOUNG_WINDOW_MS = 5_500;

export async function benchWindowsSource(): Promise<BenchFigure[]> {
  if (!hasTool(WINE)) {
    progress("windows: Wine is not installed; skipped");
    return [];
  }
  const linux = await linuxCost();
  const windows = await windowsCost();
  return [
    {
      name: `Windows source, CPU per steady snapshot (${windows.processes} processes, Wine)`,
      value: round(windows.steadyMs, 3),
      unit: "ms",
      baseline: { name: `Linux /proc source, ${PROCESSES} more processes`, value: linux.steadyMs },
    },
    {
      name: "wineserver CPU per Windows steady snapshot",
      value: round(windows.serverMs, 3),
      unit: "ms",
    },
    {
      name: "Windows source, CPU of a cold snapshot (every process new)",
      value: round(windows.coldMs, 1),
      unit: "ms",
      baseline: { name: "Linux /proc source, cold", value: linux.coldMs },
    },
  ];
}

async function linuxCost(): Promise<{ steadyMs: number; coldMs: number }> {
  progress(`windows: the Linux source with ${PROCESSES} more processes, for comparison`);
  const sleepers = await startSleepers(PROCESSES);
  try {
    const source = new LinuxProcSource();
    let started = process.cpuUsage();
    await source.snapshot();
    const coldMs = cpuMs(started);
    await new Promise((resolve) => setTimeout(resolve, YOUNG_WINDOW_MS));
    await source.snapshot();
    started = process.cpuUsage();
    for (let i = 0; i < POLLS; i++) await source.snapshot();
    return { steadyMs: round(cpuMs(started) / POLLS, 3), coldMs: round(coldMs, 1) };
  } finally {
    await stopSleepers(sleepers);
  }
}

interface WindowsCost {
  processes: number;
  coldMs: number;
  steadyMs: number;
  serverMs: number;
}

async function windowsCost(): Promise<WindowsCost> {
  progress("windows: preparing the Windows environment under Wine");
  const wine = await prepareWine();
  try {
    const tool = windowsPath(await buildMeteredTool(wine));
    progress(`windows: ${PROCESSES} Windows programs, ${POLLS} snapshots`);
    const child = runWindowsDeno(wine, [
      "run",
      "-A",
      windowsFixture(wine, "snapshot_cost.ts"),
      tool,
      String(PROCESSES),
      String(POLLS),
    ], { stderr: "inherit" });
    let serverAtStart = 0;
    let serverMs = 0;
    let result: Omit<WindowsCost, "serverMs"> | undefined;
    for await (const line of lines(child.stdout)) {
      if (line === "steady-start") serverAtStart = wineserverCpuMs();
      else if (line === "steady-end") serverMs = (wineserverCpuMs() - serverAtStart) / POLLS;
      else if (line.startsWith("{")) result = JSON.parse(line);
    }
    if (!(await child.status).success || !result) throw new Error("snapshot_cost.ts failed");
    return { ...result, serverMs };
  } finally {
    await stopWine(wine);
  }
}

function cpuMs(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
}

/** The CPU the running wineservers have used, in ms (clock ticks of 10 ms). */
function wineserverCpuMs(): number {
  let ticks = 0;
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      const close = stat.lastIndexOf(")");
      if (!stat.slice(0, close).includes("(wineserver")) continue;
      const fields = stat.slice(close + 2).split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // Gone meanwhile.
    }
  }
  return ticks * 10;
}

async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let buffered = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buffered += chunk;
    let newline: number;
    while ((newline = buffered.indexOf("\n")) >= 0) {
      yield buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
    }
  }
}
