/**
 * `GET /v1/health` sampled from a process of its own while a load runs, as
 * a monitoring system would. In the load driver's process the times took in
 * that process's own delays: its event loop, busy with thousands of
 * simulated agents, held each answer until it had a turn.
 *
 * As a script (`deno run --allow-net bench/health_probe.ts URL EVERY_MS`) it
 * samples until its standard input closes, then prints
 * `{"times": [...], "failures": N}`; {@linkcode sampleHealthApart} starts it.
 *
 * @module
 */
import { sampleGetLatency } from "./request_latency.ts";

/** Samples `GET <site>/v1/health` every `everyMs` from another process, until stopped. */
export function sampleHealthApart(
  site: string,
  everyMs: number,
): { stop(): Promise<{ times: number[]; failures: number }> } {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", new URL(import.meta.url).pathname, site, String(everyMs)],
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  return {
    async stop() {
      await child.stdin.close();
      const { stdout } = await child.output();
      return JSON.parse(new TextDecoder().decode(stdout));
    },
  };
}

if (import.meta.main) {
  const [site, everyMs] = Deno.args;
  const sampler = sampleGetLatency(`${site}/v1/health`, Number(everyMs));
  // Standard input closes when the load is over.
  for await (const _ of Deno.stdin.readable) { /* nothing is sent */ }
  console.log(JSON.stringify(await sampler.stop()));
}
