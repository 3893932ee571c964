/**
 * Short runs as the agent records them: 2,000 runs of 20 to 200 ms (seeded
 * random durations) of a metered program, a copy of `sleep` under a unique
 * name, started as fast as this machine starts them (16 at a time), past a
 * real agent that sends them to a real site. Each run's real start and end
 * are taken here, just before its spawn and just after its exit status.
 *
 * Done twice, each time with a fresh agent in a database of its own: once
 * with the kernel's process events (`--process-events`, root only), which
 * should capture every run with its exact times, and once polling `/proc`
 * every second (the baseline), which sees a run only when a poll falls
 * inside it and times it to the poll. Figures: the share of runs captured
 * as a session, and for the captured runs the median and maximum error of
 * the session's start and end against the real ones, in ms.
 *
 * A session is a run's when it has the run's pid and overlaps its time
 * (within a second, so a reused pid cannot match). The site is read again
 * until the sessions it holds stop changing, so what the agent has not sent
 * yet is not counted as missed.
 *
 * @module
 */
import { SeededRandom } from "../lib/seeded_random.ts";
import type { SessionOutput } from "../model/session_output.ts";
import { copySleep, uniqueName } from "../tests/helpers/metered_program.ts";
import { addRule, sessions } from "../tests/helpers/site_api.ts";
import { type BenchFigure, progress, round } from "./bench_figure.ts";
import { startBenchAgent } from "./bench_agent.ts";
import { type BenchSite, runConcurrently, startBenchSite } from "./bench_site.ts";

export interface ShortRunsOptions {
  runs?: number;
  /** Runs under way at once. */
  concurrency?: number;
  seed?: number;
}

/** A run as measured here: ms since the epoch, with sub-ms precision. */
interface Run {
  pid: number;
  start: number;
  end: number;
}

/** What one agent made of the runs. */
interface Capture {
  captured: number;
  startErrors: number[];
  endErrors: number[];
}

const now = () => performance.timeOrigin + performance.now();

export async function benchShortRuns(
  { runs = 2000, concurrency = 16, seed = 20 }: ShortRunsOptions = {},
): Promise<BenchFigure[]> {
  const dir = await Deno.makeTempDir({ prefix: "meter-bench-short-" });
  const site = await startBenchSite(dir);
  try {
    const durations = durationsMs(runs, seed);
    // Each pass adds a rule to the site: the second agent is ready once it has both.
    const events = await capturePass(site, dir, durations, concurrency, true, 1);
    const polling = await capturePass(site, dir, durations, concurrency, false, 2);
    const share = (c: Capture) => round(c.captured / runs * 100, 1);
    const error = (
      what: string,
      pick: (c: Capture) => number[],
      stat: (xs: number[]) => number,
    ): BenchFigure => ({
      name: `  ${what}, process events`,
      value: round(stat(pick(events)), 1),
      unit: "ms",
      baseline: { name: "polling at 1 s, ms", value: round(stat(pick(polling)), 1) },
    });
    return [
      {
        name: `short runs (20-200 ms) captured with process events, of ${runs}`,
        value: share(events),
        unit: "%",
        baseline: { name: "polling /proc at 1 s, %", value: share(polling) },
        target: ">= 100",
      },
      error("|session start - real start|, median", (c) => c.startErrors, median),
      error("|session start - real start|, max", (c) => c.startErrors, max),
      error("|session end - real end|, median", (c) => c.endErrors, median),
      error("|session end - real end|, max", (c) => c.endErrors, max),
    ];
  } finally {
    await site.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

function durationsMs(count: number, seed: number): number[] {
  const random = new SeededRandom(seed);
  return Array.from({ length: count }, () => random.int(20, 200));
}

/** One agent, a program and rule of its own, every run, and what reached the site. */
async function capturePass(
  site: BenchSite,
  dir: string,
  durations: number[],
  concurrency: number,
  processEvents: boolean,
  rules: number,
): Promise<Capture> {
  const label = processEvents ? "process events" : "polling at 1 s";
  const name = uniqueName("meter-bench-short");
  const program = await copySleep(dir, name);
  const rule = await addRule(site.url, site.admin, {
    name: `Short runs, ${label}`,
    fileName: name,
  });
  const agentDir = await Deno.makeTempDir({ dir, prefix: "agent-" });
  const agent = await startBenchAgent(site, agentDir, { processEvents, rules });
  try {
    progress(`short runs, ${label}: ${durations.length} runs, ${concurrency} at a time`);
    const runs = await runAll(program, durations, concurrency);
    const found = await settledSessions(site, rule.id);
    const capture = match(runs, found);
    progress(
      `short runs, ${label}: ${capture.captured} of ${runs.length} captured, ` +
        `${found.length} sessions at the site`,
    );
    return capture;
  } finally {
    await agent.stop();
  }
}

async function runAll(program: string, durations: number[], concurrency: number): Promise<Run[]> {
  const runs: Run[] = [];
  await runConcurrently(durations.length, concurrency, async (i) => {
    const start = now();
    const child = new Deno.Command(program, {
      args: [(durations[i] / 1000).toFixed(3)],
      stdout: "null",
      stderr: "null",
    }).spawn();
    await child.status;
    runs.push({ pid: child.pid, start, end: now() });
  });
  return runs;
}

/**
 * The rule's sessions once the site's count of sessions, and of ended ones,
 * has not changed for 10 s (the agent syncs every 2 s), or after 3 minutes.
 */
async function settledSessions(site: BenchSite, rule: string): Promise<SessionOutput[]> {
  const deadline = Date.now() + 180_000;
  let last = "";
  let unchangedSince = Date.now();
  while (true) {
    const found = await sessions(site.url, site.admin, { rule });
    const state = `${found.length} ${found.filter((s) => s.end !== null).length}`;
    if (state !== last) [last, unchangedSince] = [state, Date.now()];
    if (Date.now() - unchangedSince >= 10_000 || Date.now() > deadline) return found;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

/** Each run's session: the same pid, overlapping the run within a second. */
function match(runs: Run[], found: SessionOutput[]): Capture {
  const byPid = Map.groupBy(found, (s) => s.pid);
  const capture: Capture = { captured: 0, startErrors: [], endErrors: [] };
  for (const run of runs) {
    const session = byPid.get(run.pid)?.find((s) => {
      const start = Date.parse(s.start);
      const end = s.end === null ? Infinity : Date.parse(s.end);
      return start <= run.end + 1000 && end >= run.start - 1000;
    });
    if (!session) continue;
    capture.captured++;
    capture.startErrors.push(Math.abs(Date.parse(session.start) - run.start));
    if (session.end !== null) capture.endErrors.push(Math.abs(Date.parse(session.end) - run.end));
  }
  return capture;
}

function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = values.toSorted((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

const max = (values: number[]) => values.length === 0 ? NaN : Math.max(...values);

if (import.meta.main) {
  const { renderFigures } = await import("./bench_figure.ts");
  const runs = Deno.args[0] === undefined ? undefined : Number(Deno.args[0]);
  console.log(renderFigures(await benchShortRuns({ runs })));
}
