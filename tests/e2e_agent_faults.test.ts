/**
 * The agent loses nothing: with its site down, sessions accumulate and each
 * arrives exactly once when the site is back; killed with SIGKILL, a
 * restarted agent carries on with the same session for a program still
 * running, and closes one that ended meanwhile with `endNotCaptured`.
 */
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { join } from "node:path";
import { copySleep, runProgram, tempDir, uniqueName } from "./helpers/metered_program.ts";
import {
  type MeterProcess,
  type SiteHandle,
  startAgent,
  startSite,
} from "./helpers/meter_process.ts";
import { addRule, makeToken, sessions } from "./helpers/site_api.ts";
import { waitFor } from "./helpers/wait_for.ts";

describe("agent faults", () => {
  let temp: Awaited<ReturnType<typeof tempDir>>;
  let site: SiteHandle;
  let agent: MeterProcess;
  let admin: string;
  let ruleId: string;
  let program: string;

  beforeEach(async () => {
    temp = await tempDir();
    site = await startSite(temp.dir);
    admin = await makeToken(site.db, "admin");
    const name = uniqueName("mtest-fault");
    program = await copySleep(temp.dir, name);
    ruleId = (await addRule(site.url, admin, { name: "Fault test", fileName: name })).id;
    agent = startAgent(site.url, {
      db: join(temp.dir, "agent.db"),
      enrollToken: await makeToken(site.db, "enroll"),
    });
    await waitFor(
      "the agent to receive the rule",
      () => agent.logged("rules loaded").some((e) => e.rules === 1),
    );
  });

  afterEach(async () => {
    await agent?.stop();
    await site?.process.stop();
    await temp?.remove();
  });

  test("sessions recorded while the site is down arrive exactly once", async () => {
    await site.process.stop();
    const runs = [runProgram(program, 1), runProgram(program, 2), runProgram(program, 1.5)];
    await Promise.all(runs.map((r) => r.ended));
    await waitFor(
      "the agent to notice the site is away",
      () => agent.logged("site unreachable; will retry").length > 0,
    );
    site = await startSite(temp.dir, { port: site.port });
    const found = await waitFor("all three sessions at the site", async () => {
      const rows = await sessions(site.url, admin, { rule: ruleId });
      return rows.length >= 3 && rows.every((r) => r.end) ? rows : undefined;
    }, { timeoutMs: 60_000 });
    expect(found.map((s) => s.pid).sort()).toEqual(runs.map((r) => r.pid).sort());
    expect(new Set(found.map((s) => s.id)).size).toBe(3);
    // Later syncs change nothing.
    const marker = agent.logs.length;
    await waitFor(
      "two more syncs",
      () => agent.logs.slice(marker).filter((l) => l.includes('"synced"')).length >= 2,
    );
    expect(await sessions(site.url, admin, { rule: ruleId })).toEqual(found);
  });

  test("a killed agent resumes the running session and closes the one that ended", async () => {
    const long = runProgram(program, 30);
    const short = runProgram(program, 3);
    await waitFor("both sessions at the site", async () => {
      const rows = await sessions(site.url, admin, { rule: ruleId });
      return rows.length === 2 ? rows : undefined;
    });
    await agent.kill();
    const shortEnded = await short.ended;
    agent = startAgent(site.url, { db: join(temp.dir, "agent.db") });
    await waitFor("the short session closed", async () => {
      const rows = await sessions(site.url, admin, { rule: ruleId });
      return rows.find((r) => r.pid === short.pid && r.end);
    });
    long.kill();
    await long.ended;
    const rows = await waitFor("the long session ended", async () => {
      const rows = await sessions(site.url, admin, { rule: ruleId });
      return rows.every((r) => r.end) ? rows : undefined;
    });
    expect(rows).toHaveLength(2);
    const shortRow = rows.find((r) => r.pid === short.pid)!;
    const longRow = rows.find((r) => r.pid === long.pid)!;
    expect(shortRow.endNotCaptured).toBe(true);
    // Closed at the last moment the dead agent saw it: before its real end.
    expect(Date.parse(shortRow.end!)).toBeLessThanOrEqual(shortEnded);
    expect(longRow.endNotCaptured).toBe(false);
    expect(longRow.startNotCaptured).toBe(false);
  });
});
