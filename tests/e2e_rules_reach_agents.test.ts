/**
 * An agent set up by default syncs when its site says (five minutes) and
 * still hears of a new rule within seconds: between syncs it waits for the
 * rules to change (`GET /v1/sync/wait`). Real site and agent processes; the
 * program is a copy of `/bin/sleep` under a name only the new rule matches.
 *
 * @module
 */
import { afterAll, beforeAll, expect, test } from "vitest";
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

let temp: Awaited<ReturnType<typeof tempDir>>;
let site: SiteHandle;
let agent: MeterProcess;

beforeAll(async () => {
  temp = await tempDir();
  site = await startSite(temp.dir);
});

afterAll(async () => {
  await agent?.stop();
  await site?.process.stop();
  await temp?.remove();
});

test("a rule added after the agent's sync reaches it long before its next sync", async () => {
  const admin = await makeToken(site.db, "admin");
  agent = startAgent(site.url, {
    db: join(temp.dir, "agent.db"),
    enrollToken: await makeToken(site.db, "enroll"),
    interval: null,
    poll: 0.25,
    syncDelay: 0.5,
  });
  // Once the inventory is sent, nothing but the wait makes the agent sync for five minutes.
  await waitFor(
    `the agent's inventory to be sent\n${agent.tail()}`,
    () =>
      agent.logged("inventory changed").length > 0 &&
      agent.logged("synced").some((e) => Number(e.bytesSent) > 10_000),
  );
  const name = uniqueName("mtest-wait");
  const program = await copySleep(temp.dir, name);
  const added = performance.now();
  const rule = await addRule(site.url, admin, { name: "late rule", fileName: name });
  await waitFor(
    `the agent to receive the rule\n${agent.tail()}`,
    () => agent.logged("rules loaded").some((e) => e.rules === 1),
    { timeoutMs: 30_000 },
  );
  const heardAfterMs = performance.now() - added;
  const run = runProgram(program, 1);
  await run.ended;
  const [session] = await waitFor(
    `the session at the site\n${agent.tail()}`,
    async () => {
      const found = await sessions(site.url, admin, { rule: rule.id });
      return found.length > 0 && found[0].end !== null ? found : undefined;
    },
    { timeoutMs: 30_000 },
  );
  expect(session.pid).toBe(run.pid);
  // Five minutes between timed syncs: only the wait brought the rule this soon.
  expect(heardAfterMs).toBeLessThan(30_000);
});
