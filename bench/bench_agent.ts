/**
 * A real `meter agent` process for benchmarks, against a bench site
 * (`bench_site.ts`): it enrols with the site's token into a database of its
 * own, and is ready once it has loaded the site's rules. Asked for the
 * kernel's process events, it must say it takes them: a benchmark of events
 * that silently measured `/proc` polling would report the wrong thing.
 *
 * Its log (info and above) is kept in memory by `MeterProcess`, for the
 * error message when it fails to start.
 *
 * @module
 */
import { join } from "node:path";
import { type MeterProcess, startAgent } from "../tests/helpers/meter_process.ts";
import { waitFor } from "../tests/helpers/wait_for.ts";
import type { BenchSite } from "./bench_site.ts";

export const EVENTS_SOURCE = "process source: kernel process events, with /proc scans";

export interface BenchAgentOptions {
  /** Take exec and exit events from the kernel (`--process-events`); otherwise poll `/proc`. */
  processEvents: boolean;
  /** Seconds between polls (`--poll`, 1 unless told). */
  poll?: number;
  /** How many rules the site holds: the agent is ready once it has loaded them all. */
  rules?: number;
}

/** Starts an agent in `dir` (its database is `dir/agent.db`) and waits until it is ready. */
export async function startBenchAgent(
  site: BenchSite,
  dir: string,
  { processEvents, poll = 1, rules = 1 }: BenchAgentOptions,
): Promise<MeterProcess> {
  const agent = startAgent(site.url, {
    db: join(dir, "agent.db"),
    enrollToken: site.enroll,
    poll,
    extra: [processEvents ? "--process-events" : "--no-process-events"],
    // As the packaged unit runs it (meter-agent.service).
    env: { METER_LOG_LEVEL: "info", MALLOC_ARENA_MAX: "2" },
  });
  try {
    await waitFor(`the agent to load ${rules} rule(s)\n${agent.tail()}`, () => {
      if (agent.exited) throw new Error(`the agent exited:\n${agent.tail()}`);
      return agent.logged("rules loaded").some((entry) => Number(entry.rules) >= rules);
    }, { timeoutMs: 60_000 });
    if (processEvents && agent.logged(EVENTS_SOURCE).length === 0) {
      throw new Error(`the agent does not take process events (root only):\n${agent.tail()}`);
    }
  } catch (error) {
    await agent.stop();
    throw error;
  }
  return agent;
}
