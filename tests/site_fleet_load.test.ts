/**
 * The large-site load, short: 50,000 simulated agents enrol with a real site
 * process and run for a minute at a busy day's pace, running the same code
 * as `deno task bench --fleet-only` (ten minutes there, `bench/busy_fleet.ts`):
 * each syncs a few seconds after a session starts or ends and otherwise when
 * the site says, and waits for new rules between syncs. Only correctness is
 * checked, never timing (the machine is shared): no request fails except by
 * rate limit, every session sent is stored exactly once and as sent, the
 * site held waits and answered the rest at once, and a session reaches the
 * reports. The same load, smaller, runs with the syncs applied on a sync
 * thread (`--sync-threads 1`).
 *
 * @module
 */
import { expect, test } from "vitest";
import { setPriority } from "node:os";
import { runLoadTest } from "../bench/load_test.ts";
import { expectEverySessionStoredOnce, expectSiteClean } from "./helpers/load_checks.ts";

test(
  "50,000 agents at a busy day's pace for a minute: nothing fails, every session is stored once",
  async () => {
    // At the lowest priority, with the site it starts: the load takes both cores for a minute,
    // and the test beside it may need a spare one (process events catch runs of 0.5 ms).
    setPriority(19);
    const r = await runLoadTest({
      agents: 50_000,
      seconds: 60,
      waitForSummaries: false,
      busy: {},
    });
    expectEverySessionStoredOnce(r);
    // The load did happen: thousands of agents synced, with sessions, and waited for rules.
    expect(r.fleet.latencies.length).toBeGreaterThan(5_000);
    expect(r.sent.sessions).toBeGreaterThan(5_000);
    expect(r.waits!.answered).toBeGreaterThan(1_000);
    expect(r.waits!.failed).toBe(0);
    // Sessions reached the reports while the load went on.
    expect(r.reportLagMs!.length).toBeGreaterThan(0);
    expect(Math.max(...r.reportLagMs!)).toBeLessThan(120_000);
    expectSiteClean(r);
  },
  600_000,
);

test(
  "10,000 agents for a minute with syncs applied on a sync thread: every session is stored once",
  async () => {
    setPriority(19);
    const r = await runLoadTest({
      agents: 10_000,
      seconds: 60,
      waitForSummaries: false,
      busy: {},
      siteArgs: ["--sync-threads", "1"],
    });
    expectEverySessionStoredOnce(r);
    expect(r.fleet.latencies.length).toBeGreaterThan(1_000);
    expect(r.sent.sessions).toBeGreaterThan(1_000);
    expectSiteClean(r);
  },
  600_000,
);
