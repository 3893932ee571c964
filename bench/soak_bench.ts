/**
 * Soak: does the agent's memory stay flat over a long run? A `meter agent`
 * with the kernel's process events meters programs that start and stop
 * every few seconds (copies of `sleep` under metered names, run for 1 to 10
 * s, several at once) and a few that run the whole time, against a real
 * site, for `minutes` (30 unless told). Its resident memory (VmRSS, and
 * RssAnon, its own pages) is sampled every 10 s from /proc; the figure is
 * the mean of the last third of the samples beside the mean of the first
 * third, held within 5 % of it. A leak per run (a map that keeps ended
 * processes, a growing log buffer) shows there long before it would on a
 * customer's machine; a minute-long measure cannot show it.
 *
 * The first third includes the agent's warm-up (its first inventory, the
 * JIT), so a flat line is a fair result, not a flattering one. Progress is
 * printed every minute. Opt-in (`deno task bench --soak-only`): a full
 * bench run already takes about an hour.
 *
 * @module
 */
import { SeededRandom } from "../lib/seeded_random.ts";
import {
  copySleep,
  type RunningProgram,
  runProgram,
  uniqueName,
} from "../tests/helpers/metered_program.ts";
import { addRule, sessions } from "../tests/helpers/site_api.ts";
import { type BenchFigure, progress, round } from "./bench_figure.ts";
import { startBenchAgent } from "./bench_agent.ts";
import { startBenchSite } from "./bench_site.ts";
import { cpuSeconds, type ProcessSample, residentMemory, sampleProcess } from "./process_stats.ts";

export interface SoakOptions {
  minutes?: number;
  seed?: number;
}

/** Metered programs of short runs, and how many run at once. */
const SHORT_PROGRAMS = 4;
const RUNNING_AT_ONCE = 6;
/** Runs that last the whole soak: sessions held open all along. */
const LONG_RUNS = 3;
const SAMPLE_EVERY_MS = 10_000;

export async function benchSoak({ minutes = 30, seed = 7 }: SoakOptions = {}): Promise<
  BenchFigure[]
> {
  const dir = await Deno.makeTempDir({ prefix: "meter-bench-soak-" });
  const site = await startBenchSite(dir);
  const prefix = uniqueName("meter-bench-soak");
  const short = await Promise.all(
    Array.from({ length: SHORT_PROGRAMS }, (_, i) => copySleep(dir, `${prefix}-${i}`)),
  );
  const longProgram = await copySleep(dir, `${prefix}-long`);
  const long: RunningProgram[] = [];
  let agent: Awaited<ReturnType<typeof startBenchAgent>> | undefined;
  try {
    // One rule matches every copy.
    await addRule(site.url, site.admin, { name: "Bench soak", fileName: `${prefix}-*` });
    agent = await startBenchAgent(site, dir, { processEvents: true });
    const pid = agent.pid;
    progress(`soak: ${minutes} min, agent with process events, sampled every 10 s`);
    const random = new SeededRandom(seed);
    const endAt = Date.now() + minutes * 60_000;
    for (let i = 0; i < LONG_RUNS; i++) long.push(runProgram(longProgram, minutes * 60 + 120));
    const sampler = sampleProcess(pid, SAMPLE_EVERY_MS);
    const cpuBefore = cpuSeconds(pid);
    let runs = 0;
    const worker = async () => {
      while (Date.now() < endAt) {
        const seconds = round(1 + random.next() * 9, 1);
        await runProgram(random.pick(short), seconds).ended;
        runs++;
      }
    };
    let minute = 0;
    const ticker = setInterval(() => {
      const memory = residentMemory(pid);
      progress(
        `soak: minute ${++minute} of ${minutes}: ${runs} runs ended, agent VmRSS ` +
          `${MB(memory.total)} MB, RssAnon ${MB(memory.anonymous)} MB`,
      );
    }, 60_000);
    await Promise.all(Array.from({ length: RUNNING_AT_ONCE }, worker));
    clearInterval(ticker);
    const samples = sampler.stop();
    const cpuPercent = (cpuSeconds(pid) - cpuBefore) / (minutes * 60) * 100;
    const atSite = (await sessions(site.url, site.admin)).length;
    progress(`soak: ${runs} short runs ended, ${atSite} sessions at the site so far`);
    return [
      flatness("agent resident memory (VmRSS), last third of the soak", samples, (s) => s.rssBytes),
      flatness("  of which the agent's own (RssAnon)", samples, (s) => s.anonBytes),
      {
        name: `agent CPU over the soak, ${RUNNING_AT_ONCE} runs of 1-10 s at once`,
        value: round(cpuPercent, 2),
        unit: "% of a core",
      },
    ];
  } finally {
    long.forEach((run) => run.kill());
    await Promise.all(long.map((run) => run.ended));
    await agent?.stop();
    await site.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

/** The mean of the last third of the samples, beside the first third's, held within 5 %. */
function flatness(
  name: string,
  samples: ProcessSample[],
  bytes: (sample: ProcessSample) => number,
): BenchFigure {
  const span = samples.at(-1)!.atMs;
  const mean = (part: ProcessSample[]) => part.reduce((sum, s) => sum + bytes(s), 0) / part.length;
  const first = mean(samples.filter((s) => s.atMs <= span / 3));
  const last = mean(samples.filter((s) => s.atMs >= span * 2 / 3));
  progress(`soak: ${name.trim()}: ${round((last / first - 1) * 100, 1)} % from the first third`);
  return {
    name,
    value: round(last / 1e6, 1),
    unit: "MB",
    baseline: { name: "mean of the first third, MB", value: round(first / 1e6, 1) },
    target: `<= ${round(first * 1.05 / 1e6, 1)}`,
  };
}

const MB = (bytes: number) => round(bytes / 1e6, 1);

if (import.meta.main) {
  const { renderFigures } = await import("./bench_figure.ts");
  const minutes = Deno.args[0] === undefined ? undefined : Number(Deno.args[0]);
  console.log(renderFigures(await benchSoak({ minutes })));
}
