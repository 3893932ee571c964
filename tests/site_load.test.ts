/**
 * The load test, short: 200 simulated agents enrol with a real site process
 * and sync concurrently for 15 s, each over a connection of its own, running
 * the same code as `deno task bench --load-only` (2,000 agents for three
 * minutes, `bench/load_test.ts`). Intervals are shorter than the bench's so
 * that each agent syncs several times, and days last 5 s, so that each
 * agent also goes on to new days' documents. Only correctness is checked, never
 * timing (the machine is shared): no request fails except by rate limit,
 * every session sent is stored exactly once and as sent (running or ended,
 * with its run time), the site logs nothing at warn or error, and it still
 * answers afterwards.
 *
 * @module
 */
import { expect, test } from "vitest";
import { runLoadTest } from "../bench/load_test.ts";
import { expectEverySessionStoredOnce, expectSiteClean } from "./helpers/load_checks.ts";

test("200 agents syncing at once for 15 s: nothing fails, every session is stored once", async () => {
  const r = await runLoadTest({
    agents: 200,
    seconds: 15,
    minIntervalSeconds: 1,
    maxIntervalSeconds: 3,
    waitForSummaries: false,
    dayLengthSeconds: 5,
  });
  expectEverySessionStoredOnce(r);
  // The load did happen: every agent synced, most of them with sessions.
  expect(r.fleet.latencies.length).toBeGreaterThan(r.agents);
  expect(r.sent.sessions).toBeGreaterThan(r.agents);
  // 15 s of 5 s days, each agent's first one partly gone: three or four days each.
  expect(r.stored.days).toBeGreaterThanOrEqual(3);
  expectSiteClean(r);
});
