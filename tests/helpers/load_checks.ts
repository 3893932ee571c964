/**
 * What every load test checks of its run, whatever its size: no request
 * failed but by rate limit or a busy site, every session sent is stored
 * exactly once and as sent (running or ended, with its run time), and the
 * site logged nothing at warn or error and still answers.
 *
 * @module
 */
import { expect } from "vitest";
import type { LoadTestResult } from "../../bench/load_result.ts";

/** Nothing failed, and every session sent is stored once, as sent. */
export function expectEverySessionStoredOnce(r: LoadTestResult): void {
  expect(r.fleet.failures, JSON.stringify(r.fleet.failureExamples)).toEqual({});
  expect(r.health.loadedFailures).toBe(0);
  expect(r.fleet.undelivered).toBe(0);
  expect(r.stored).toEqual({
    rows: r.sent.sessions,
    distinct: r.sent.sessions,
    running: r.sent.running,
    endedMs: r.sent.endedMs,
    days: expect.any(Number),
  });
}

/** The site logged nothing at warn or error, and still answers. */
export function expectSiteClean(r: LoadTestResult): void {
  expect(r.siteLog.examples).toEqual([]);
  expect(r.siteAlive).toBe(true);
}
