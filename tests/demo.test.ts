/**
 * `meter demo`, Meter's main job on one machine: it starts a site and an
 * agent as processes, adds example rules, and shows a metered program run
 * on this machine as a session at the site.
 */
import { afterAll, describe, expect, test } from "vitest";
import { join } from "node:path";
import { copySleep, runProgram, tempDir } from "./helpers/metered_program.ts";
import { MeterProcess } from "./helpers/meter_process.ts";
import { waitFor } from "./helpers/wait_for.ts";

describe("meter demo", () => {
  let demo: MeterProcess | undefined;
  let temp: Awaited<ReturnType<typeof tempDir>> | undefined;

  afterAll(async () => {
    await demo?.stop();
    await temp?.remove();
  });

  test("a run of sleep reaches the demo's site while it lists sessions, then both processes stop", async () => {
    temp = await tempDir();
    const dataDir = join(temp.dir, "demo");
    demo = new MeterProcess(["demo", "--port", "0", "--data-dir", dataDir, "--duration", "60"]);
    const output = () => demo!.stdout.join("\n");
    await waitFor("the demo to start", () => output().includes("Ctrl-C stops the demo"), {
      timeoutMs: 60_000,
    });
    expect(output()).toMatch(/admin token\s+mtr_\S+/);
    expect(output()).toMatch(/metering\s+.*sleep \(S01-\d+\)/);
    // A copy of sleep under its own name, in a folder of this test's.
    const program = await copySleep(temp.dir, "sleep");
    const run = runProgram(program, 2);
    await run.ended;
    // Other programs a rule names (shells, other tests' sleeps) may push the run out of
    // the listing's latest ten, so the run is looked up at the site itself.
    const url = output().match(/site\s+(http:\/\/\S+)/)![1];
    const token = (await Deno.readTextFile(join(dataDir, "admin.token"))).trim();
    await waitFor("the run at the demo's site, ended", async () => {
      const response = await fetch(`${url}/v1/usage?limit=1000&order=desc`, {
        headers: { authorization: `Bearer ${token}` },
      });
      const { sessions } = await response.json() as {
        sessions: { exe: string; pid: number; end: string | null }[];
      };
      return sessions.some((s) => s.exe === program && s.pid === run.pid && s.end !== null);
    }, { timeoutMs: 60_000 });
    await waitFor("a listing printed after the run ended", () => {
      const listings = output().split("the latest sessions at the site:");
      return listings.length > 2 && listings.at(-1)!.includes("durationSeconds");
    });
    await demo.stop();
    expect(output()).toContain("stopped the agent and the site");
    const logs = await Deno.readTextFile(join(dataDir, "agent.log"));
    expect(logs).toContain('"msg":"agent stopped"');
  });
});
