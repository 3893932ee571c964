/**
 * End to end with real processes: a site and an agent as separate processes
 * on loopback, a rule for a program name, and a copy of /bin/sleep run under
 * that name. The site must report exactly one session with the right user,
 * start and end within a poll interval of the real ones, and nothing for a
 * program no rule names.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { copySleep, runProgram, uniqueName } from "./helpers/metered_program.ts";
import { type MeteredSite, startSiteWithAgent } from "./helpers/meter_process.ts";
import { addRule, api, sessions } from "./helpers/site_api.ts";
import { waitFor } from "./helpers/wait_for.ts";

const POLL_SECONDS = 0.5;

describe("metering a real program end to end", () => {
  let m: MeteredSite;

  beforeAll(async () => {
    m = await startSiteWithAgent({ poll: POLL_SECONDS });
  });

  afterAll(() => m?.stop());

  test("one session with the right user, start and end; none for an unmatched program", async () => {
    const metered = uniqueName("mtest-metered");
    const unmatched = uniqueName("mtest-unmatched");
    const rule = await addRule(m.site.url, m.admin, {
      name: "Metered test program",
      fileName: metered,
    });
    // The agent takes the rule at its next sync (every 2 s here).
    await waitFor(
      "the agent to receive the rule",
      () => m.agent.logged("rules loaded").some((e) => e.rules === 1),
    );

    const meteredPath = await copySleep(m.dir, metered);
    const unmatchedPath = await copySleep(m.dir, unmatched);
    const run = runProgram(meteredPath, 3);
    const other = runProgram(unmatchedPath, 3);
    const endedAt = await run.ended;
    await other.ended;

    const [session] = await waitFor("the session to reach the site, ended", async () => {
      const found = await sessions(m.site.url, m.admin, { rule: rule.id });
      return found.length > 0 && found.every((s) => s.end) ? found : undefined;
    });
    const all = await sessions(m.site.url, m.admin);
    expect(all.filter((s) => s.ruleId === rule.id)).toHaveLength(1);
    expect(all.some((s) => s.exe.endsWith(unmatched) || s.argv0.endsWith(unmatched))).toBe(false);

    expect(session.user).toBe(Deno.env.get("USER") ?? "root");
    expect(session.exe).toBe(meteredPath);
    expect(session.pid).toBe(run.pid);
    expect(session.ruleName).toBe("Metered test program");
    expect(session.startNotCaptured).toBe(false);
    expect(session.endNotCaptured).toBe(false);
    expect(session.stillRunning).toBe(false);
    const tolerance = POLL_SECONDS * 1000 + 300;
    expect(Math.abs(Date.parse(session.start) - run.startedAt)).toBeLessThan(tolerance);
    expect(Math.abs(Date.parse(session.end!) - endedAt)).toBeLessThan(tolerance);
  });

  test("the site lists the client with its facts", async () => {
    const response = await api(m.site.url, m.admin, "GET", "/v1/clients");
    const { clients } = await response.json();
    expect(clients).toHaveLength(1);
    expect(clients[0].hostName).toBe(Deno.hostname());
    expect(clients[0].timeZone).toBe(Intl.DateTimeFormat().resolvedOptions().timeZone);
    expect(clients[0].lastSyncAt).not.toBeNull();
  });
});
