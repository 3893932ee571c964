/**
 * A program already running when a newly enrolled agent starts is recorded
 * with `startNotCaptured`, its start time still exact (from the kernel), and
 * its end captured when it exits.
 */
import { afterAll, describe, expect, test } from "vitest";
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

describe("a program running before the agent", () => {
  let temp: Awaited<ReturnType<typeof tempDir>> | undefined;
  let site: SiteHandle | undefined;
  let agent: MeterProcess | undefined;

  afterAll(async () => {
    await agent?.stop();
    await site?.process.stop();
    await temp?.remove();
  });

  test("is flagged startNotCaptured, with its real start time", async () => {
    temp = await tempDir();
    site = await startSite(temp.dir);
    const admin = await makeToken(site.db, "admin");
    const name = uniqueName("mtest-early");
    const rule = await addRule(site.url, admin, { name: "Early", fileName: name });
    const run = runProgram(await copySleep(temp.dir, name), 30);
    agent = startAgent(site.url, {
      db: join(temp.dir, "agent.db"),
      enrollToken: await makeToken(site.db, "enroll"),
    });
    await waitFor("the running session at the site", async () => {
      const rows = await sessions(site!.url, admin, { rule: rule.id });
      return rows.length === 1 ? rows : undefined;
    });
    run.kill();
    const endedAt = await run.ended;
    const [session] = await waitFor("the session ended", async () => {
      const rows = await sessions(site!.url, admin, { rule: rule.id });
      return rows.length === 1 && rows[0].end ? rows : undefined;
    });
    expect(session.startNotCaptured).toBe(true);
    expect(session.endNotCaptured).toBe(false);
    expect(Math.abs(Date.parse(session.start) - run.startedAt)).toBeLessThan(1000);
    expect(Math.abs(Date.parse(session.end!) - endedAt)).toBeLessThan(1000);
  });
});
