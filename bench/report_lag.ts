/**
 * How soon sessions reach the reports while a load runs. Every `everyMs` a
 * probe agent of its own sends one ended session of a user no other agent
 * has, through `POST /v1/sync` like the fleet, and then reads the
 * `users-ran` report (built from the summaries) every half second until
 * that user is in it. The time from the site's 200 to the report is one
 * sample; a probe not seen within two minutes counts as two minutes.
 *
 * @module
 */
import { backgroundLoop } from "./background_loop.ts";
import type { BenchSite } from "./bench_site.ts";
import { postSync, type SimulatedAgent } from "./simulated_agent.ts";

const GIVE_UP_MS = 120_000;

/** Samples in the background until stopped; `stop` gives each probe's delay, ms. */
export function sampleReportLag(
  site: BenchSite,
  probes: SimulatedAgent[],
  ruleId: string,
  everyMs: number,
): { stop(): Promise<number[]> } {
  const delays: number[] = [];
  let next = 0;
  const loop = backgroundLoop(everyMs, async () => {
    const probe = probes[next++];
    if (probe) delays.push(await probeOnce(site, probe, ruleId));
  });
  return { stop: () => loop.stop().then(() => delays) };
}

async function probeOnce(site: BenchSite, probe: SimulatedAgent, ruleId: string): Promise<number> {
  probe.record({ ended: 1, started: 0, ending: 0 }, Date.now());
  await postUntilTaken(site.url, probe);
  const stored = performance.now();
  const month = probe.day.slice(0, 7);
  const url = `${site.url}/v1/reports/users-ran?rule=${ruleId}&month=${month}`;
  while (performance.now() - stored < GIVE_UP_MS) {
    const response = await fetch(url, { headers: { authorization: `Bearer ${site.admin}` } });
    const report = await response.json();
    if (report.rows?.some((r: { user: string }) => r.user === probe.user)) {
      return performance.now() - stored;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return GIVE_UP_MS;
}

/** Sends the probe's session, again a second later while the site answers 429, as an agent would. */
async function postUntilTaken(url: string, probe: SimulatedAgent): Promise<void> {
  while (true) {
    const { status, reply } = await postSync(url, probe.authorization, probe.usageBody());
    if (status === 200) return;
    if (status !== 429) {
      throw new Error(`sync answered ${status}: ${new TextDecoder().decode(reply)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}
