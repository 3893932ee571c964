/**
 * What one run of the load test found: the fleet's traffic, what the site
 * stored, and the site's resources over the run. Kept apart from the run
 * itself so that the figures drawn from it (`load_figures.ts`) and the run
 * (`load_test.ts`) do not import each other.
 *
 * @module
 */
import type { FleetRun } from "./load_fleet.ts";
import type { RuleWaits } from "./busy_fleet.ts";
import type { ProcessSample } from "./process_stats.ts";

/** What the site holds, from `POST /v1/query` over its `sessions` view. */
export interface StoredSessions {
  rows: number;
  distinct: number;
  running: number;
  endedMs: number;
  /** Days the sessions belong to. */
  days: number;
}

export interface LoadTestResult {
  agents: number;
  seconds: number;
  intervalSeconds: [number, number];
  /** The fleet ran at a real fleet's pace (`busy_fleet.ts`); the intervals are unused. */
  busy: boolean;
  fleet: FleetRun;
  /** A busy fleet's waits for new rules. */
  waits?: RuleWaits;
  /** A busy fleet's probes: from a session stored to the reports showing it, ms each. */
  reportLagMs?: number[];
  /** Sessions the agents recorded, their run time once ended, and those still running. */
  sent: { sessions: number; running: number; endedMs: number };
  /** Of the sessions sent, those delivered before the load began (the part of the first days gone). */
  sentBeforeLoad: number;
  stored: StoredSessions;
  /** From the end of the load until the site held every session sent. */
  storedAfterSeconds: number;
  health: { unloaded: number[]; loaded: number[]; loadedFailures: number };
  site: ProcessSample[];
  /** Resident memory and open files after enrolment, before the load. */
  before: { rssBytes: number; fds: number };
  /** When the warm-up ended, ms since the load began: the comparison starts there. */
  warmUpMs: number;
  siteCpuSeconds: number;
  driverCpuSeconds: number;
  /** How late the driver's own timers ran during the load, ms: a delay its timings carry. */
  driverDelayMs: number[];
  /** The site's hot document cache during the load. */
  cache: { hits: number; misses: number };
  /** Sessions waiting for the summariser, most seen during the load. */
  backlogPeak: number;
  /** The site's JavaScript heap in use (`meter_heap_used_bytes`, garbage included), sampled during the load. */
  heap: HeapSample[];
  /** From the end of the load until nothing waited for the summariser (if waited for). */
  summariesAfterSeconds?: number;
  siteAlive: boolean;
  /** Lines the site logged at warn or error, and the first few of them. */
  siteLog: { warnings: number; errors: number; examples: string[] };
}

export interface HeapSample {
  atMs: number;
  heapBytes: number;
}
