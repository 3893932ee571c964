/**
 * `meter demo`, Meter's main job on one machine: it starts a site and an
 * agent as processes, adds example rules, and shows a metered program run
 * on this machine as a session at the site. A site that stops on its own
 * ends the demo with a line naming it and its log.
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

  test("a site that stops on its own ends the demo, naming it and its log", async () => {
    const own = await tempDir();
    const dataDir = join(own.dir, "demo");
    const alone = new MeterProcess(["demo", "--port", "0", "--data-dir", dataDir]);
    try {
      await waitFor("the demo to start", () => alone.stdout.join("\n").includes("Ctrl-C stops"), {
        timeoutMs: 60_000,
      });
      const siteDb = join(dataDir, "site.db");
      const found = await new Deno.Command("pgrep", { args: ["-f", `site --db ${siteDb}`] })
        .output();
      const pids = new TextDecoder().decode(found.stdout).trim().split("\n").map(Number);
      expect(pids).toHaveLength(1);
      Deno.kill(pids[0], "SIGKILL");
      const status = await alone.status;
      expect(status.code).toBe(1);
      expect(alone.logs.join("\n")).toContain(
        `the site stopped (exit code 137); see ${join(dataDir, "site.log")}`,
      );
      expect(alone.stdout.join("\n")).not.toContain("stopped the agent and the site");
    } finally {
      await alone.stop();
      await own.remove();
    }
  });
});
