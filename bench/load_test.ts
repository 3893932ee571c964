/**
 * The load test: a real site process, as shipped (its default rate limits
 * and document cache, a fresh libSQL file), and a fleet of simulated agents
 * (`load_fleet.ts`) that enrol and then sync concurrently over loopback for
 * a bounded time, each over a connection of its own, every few seconds with
 * jitter. It answers the hardening issue's questions:
 *
 * - does any request fail, except by rate limit (429s are counted apart);
 * - does the site's memory stay flat (resident memory sampled from /proc,
 *   the last third of the load against the first third after a warm-up);
 * - does ingest keep up: every session sent is stored, exactly once and as
 *   sent, shortly after the load ends (checked through `POST /v1/query`),
 *   the summariser's backlog drains, and latency does not grow;
 *
 * and measures requests and sessions per second, sync latency percentiles
 * next to `GET /v1/health` under the same load and unloaded, and the site's
 * CPU next to the load driver's own (both share the machine).
 *
 * `benchLoad` prints figures for `deno task bench` (`load_figures.ts`);
 * `runLoadTest` gives the raw result, which `tests/site_load.test.ts` checks
 * with a smaller fleet. Options for experiments vary the share of syncs with
 * nothing new (1: heartbeats only) and the site's settings (e.g. the
 * summariser idle), to tell which part of the site a figure comes from.
 *
 * @module
 */
import { backgroundLoop } from "./background_loop.ts";
import { type BenchFigure, progress, round } from "./bench_figure.ts";
import { loadFigures } from "./load_figures.ts";
import type { HeapSample, LoadTestResult, StoredSessions } from "./load_result.ts";
import { type BenchSite, enrollClients, runConcurrently, startBenchSite } from "./bench_site.ts";
import { type FleetRun, type LatencySample, runFleet } from "./load_fleet.ts";
import { type BusyFleetOptions, type RuleWaits, runBusyFleet } from "./busy_fleet.ts";
import { sampleReportLag } from "./report_lag.ts";
import { cpuSeconds, openFiles, type ProcessSample, sampleProcess } from "./process_stats.ts";
import { measureGet, percentile } from "./request_latency.ts";
import { sampleHealthApart } from "./health_probe.ts";
import { sampleEventLoopDelay } from "./event_loop_delay.ts";
import { IDLE_SHARE, SimulatedAgent } from "./simulated_agent.ts";
import { beginDays, type FleetDays } from "./fleet_days.ts";
import { SeededRandom } from "../lib/seeded_random.ts";
import type { SiteSettings } from "../site/mod.ts";
import { dayOf } from "../model/doc_id.ts";

export interface LoadTestOptions {
  agents?: number;
  seconds?: number;
  minIntervalSeconds?: number;
  maxIntervalSeconds?: number;
  /** Wait until the summariser took in what the load brought, and time it. */
  waitForSummaries?: boolean;
  /** Share of syncs with nothing new, for an experiment (1: heartbeats only); 0.3 by default. */
  idleShare?: number;
  /** Site settings other than the defaults, for an experiment (e.g. the summariser idle). */
  siteSettings?: Partial<SiteSettings>;
  /** More flags for `meter site`. */
  siteArgs?: string[];
  /**
   * How long a day of usage lasts (`fleet_days.ts`), {@linkcode FAST_DAY_SECONDS}
   * by default; 0 makes the whole load part of today, and documents grow
   * throughout.
   */
  dayLengthSeconds?: number;
  /**
   * Drive the fleet at a real fleet's pace instead (`busy_fleet.ts`): agents
   * sync on news and when the site says, and wait for new rules between
   * syncs; the intervals and days above are then unused.
   */
  busy?: Omit<BusyFleetOptions, "seconds">;
}

/**
 * A day at the fleet's pace: each simulated agent records about 0.14
 * sessions a second, some 12,000 a real day, about a hundred times a busy
 * real client's; a day of 864 s (86,400 / 100) holds about 120 sessions, a
 * busy real client's day.
 */
export const FAST_DAY_SECONDS = 864;

const SAMPLE_EVERY_MS = 2_000;
const HEALTH_EVERY_MS = 250;
/** How often the driver checks how late its own timers run. */
const DRIVER_DELAY_EVERY_MS = 50;
const BACKLOG_EVERY_MS = 5_000;
/** How often a probe measures how soon a session reaches the reports (busy fleets). */
const REPORT_PROBE_EVERY_MS = 10_000;

export async function runLoadTest(options: LoadTestOptions = {}): Promise<LoadTestResult> {
  const {
    agents = 2000,
    seconds = 180,
    minIntervalSeconds = 5,
    maxIntervalSeconds = 15,
    waitForSummaries = true,
    dayLengthSeconds = FAST_DAY_SECONDS,
  } = options;
  const siteLog = { warnings: 0, errors: 0, examples: [] as string[] };
  const dir = await Deno.makeTempDir({ prefix: "meter-load-" });
  const site = await startBenchSite(dir, {
    asShipped: true,
    // Enrolling the fleet from one address is set-up, not the load under test.
    settings: { enrollRequestsPerMinute: 1_000_000, ...options.siteSettings },
    onLog: (line) => keepLogLine(siteLog, line),
    args: options.siteArgs,
  });
  try {
    const fleet = await prepareFleet(site, agents);
    const probes = options.busy ? await prepareProbes(site, seconds) : [];
    const days = !options.busy && dayLengthSeconds > 0
      ? await beginFleetDays(site, fleet, {
        ...options,
        dayLengthSeconds,
        seconds,
        minIntervalSeconds,
        maxIntervalSeconds,
      })
      : undefined;
    const sentBeforeLoad = sentBy(fleet).sessions;
    const unloaded = (await measureGet(`${site.url}/v1/health`, "", 200, 10)).times;
    progress(
      options.busy
        ? `load: ${agents} agents at a busy day's pace for ${seconds} s`
        : `load: ${agents} agents syncing every ${minIntervalSeconds}-${maxIntervalSeconds} s ` +
          `for ${seconds} s`,
    );
    const busy = options.busy;
    const loaded = await underLoad(
      site,
      busy
        ? () =>
          runBusyFleet(site.url, fleet, {
            changeRules: () => addRule(site, "Added during the load"),
            ...busy,
            seconds,
          })
        : () =>
          runFleet(site.url, fleet, {
            seconds,
            minIntervalSeconds,
            maxIntervalSeconds,
            idleShare: options.idleShare,
            days,
          }),
      probes,
    );
    progress("load over: checking what the site stored");
    // The fleet timed its drain from the end of the load; what follows adds to it.
    const drained = performance.now();
    const since = () => loaded.fleet.drainSeconds + (performance.now() - drained) / 1000;
    // The probes' sessions are stored with the fleet's.
    const sent = sentBy([...fleet, ...probes]);
    const stored = await waitForStored(site, sent.sessions);
    const storedAfterSeconds = since();
    const summariesAfterSeconds = waitForSummaries
      ? await waitForSummarised(site).then(since)
      : undefined;
    return {
      agents,
      seconds,
      intervalSeconds: [minIntervalSeconds, maxIntervalSeconds],
      busy: busy !== undefined,
      ...loaded,
      health: { ...loaded.health, unloaded },
      sent,
      sentBeforeLoad,
      stored,
      storedAfterSeconds,
      warmUpMs: warmUpMs(seconds, maxIntervalSeconds),
      summariesAfterSeconds,
      siteAlive: await isAlive(site),
      siteLog,
    };
  } finally {
    await site.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * Runs the fleet while sampling the site: its process, its health answers,
 * its summariser's backlog and, with probes, how soon sessions reach reports.
 */
async function underLoad(
  site: BenchSite,
  runFleet: () => Promise<FleetRun & { waits?: RuleWaits }>,
  probes: SimulatedAgent[],
) {
  const before = { rssBytes: site.rssBytes(), fds: openFiles(site.pid) };
  const cpu = { site: site.cpuSeconds(), driver: cpuSeconds(Deno.pid) };
  const counters = await siteCounters(site);
  const samplers = {
    site: sampleProcess(site.pid, SAMPLE_EVERY_MS),
    health: sampleHealthApart(site.url, HEALTH_EVERY_MS),
    driverDelay: sampleEventLoopDelay(DRIVER_DELAY_EVERY_MS),
    backlog: sampleBacklog(site, BACKLOG_EVERY_MS),
    heap: sampleHeap(site, SAMPLE_EVERY_MS * 5),
    reportLag: sampleReportLag(site, probes, PROBE_RULE, REPORT_PROBE_EVERY_MS),
  };
  const { waits, ...run } = await runFleet();
  const siteCpuSeconds = site.cpuSeconds() - cpu.site;
  const driverCpuSeconds = cpuSeconds(Deno.pid) - cpu.driver;
  const health = await samplers.health.stop();
  const driverDelayMs = samplers.driverDelay.stop();
  const after = await siteCounters(site);
  const during = (name: keyof typeof after) => after[name] - counters[name];
  return {
    fleet: run,
    cache: { hits: during("hits"), misses: during("misses") },
    before,
    site: samplers.site.stop(),
    health: { loaded: health.times, loadedFailures: health.failures },
    backlogPeak: await samplers.backlog.stop(),
    waits,
    reportLagMs: probes.length > 0 ? await samplers.reportLag.stop() : undefined,
    heap: await samplers.heap.stop(),
    siteCpuSeconds,
    driverCpuSeconds,
    driverDelayMs,
  };
}

/** The hot document cache's hits and misses so far, from `GET /metrics`. */
async function siteCounters(site: BenchSite) {
  const text = await (await fetch(`${site.url}/metrics`)).text();
  const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1] ?? 0);
  return {
    hits: value("meter_doc_cache_hits"),
    misses: value("meter_doc_cache_misses"),
  };
}

/** The rule the fleet's sessions belong to: the first the site creates. */
const PROBE_RULE = "S01-1";

/** Agents that each send one session of a user of their own, to time the way to the reports. */
async function prepareProbes(site: BenchSite, seconds: number): Promise<SimulatedAgent[]> {
  const count = Math.ceil(seconds * 1000 / REPORT_PROBE_EVERY_MS) + 1;
  const day = dayOf(Date.now());
  return (await enrollClients(site, count)).map((c, i) => new SimulatedAgent(c, day, `probe-${i}`));
}

/** Adds a rule at the site, as an administrator would while the fleet runs. */
async function addRule(site: BenchSite, name: string): Promise<void> {
  await adminRequest(site, "POST", "/v1/rules", { name, fileName: "added-during-load*" });
}

/** A rule for the sessions to belong to, the agents enrolled and following the rules. */
async function prepareFleet(site: BenchSite, agents: number): Promise<SimulatedAgent[]> {
  await adminRequest(site, "POST", "/v1/rules", { name: "Python", fileName: "python3*" });
  progress(`enrolling ${agents} simulated agents`);
  const clients = await enrollClients(site, agents);
  const day = dayOf(Date.now());
  const fleet = clients.map((c) => new SimulatedAgent(c, day));
  await runConcurrently(agents, 16, (i) => fleet[i].followRules(site.url));
  return fleet;
}

/**
 * Days of `dayLengthSeconds`, the load beginning part-way through each
 * agent's first: what the part gone holds is delivered and summarised
 * first, so the load begins on a settled fleet.
 */
async function beginFleetDays(
  site: BenchSite,
  fleet: SimulatedAgent[],
  o: LoadTestOptions & { seconds: number; minIntervalSeconds: number; maxIntervalSeconds: number },
): Promise<FleetDays> {
  progress(`load: days of ${o.dayLengthSeconds} s; delivering the part of each agent's day gone`);
  const random = new SeededRandom(11);
  const days = await beginDays(site.url, fleet, {
    lengthSeconds: o.dayLengthSeconds!,
    loadSeconds: o.seconds,
    meanIntervalSeconds: (o.minIntervalSeconds + o.maxIntervalSeconds) / 2,
    idleShare: o.idleShare ?? IDLE_SHARE,
    random: fleet.map((_, i) => random.fork(i)),
  });
  await waitForSummarised(site);
  return days;
}

function keepLogLine(log: LoadTestResult["siteLog"], line: string): void {
  let level = "";
  try {
    level = JSON.parse(line).level;
  } catch {
    level = "error"; // not a log line: a crash's stack trace
  }
  if (level === "warn") log.warnings++;
  else if (level === "error") log.errors++;
  else return;
  if (log.examples.length < 5) log.examples.push(line.slice(0, 500));
}

/**
 * The time the fleet takes to settle: every agent has synced once by the
 * longest interval, and the first sixth of the load is left out anyway.
 */
function warmUpMs(seconds: number, maxIntervalSeconds: number): number {
  return Math.min(seconds / 3, Math.max(maxIntervalSeconds, seconds / 6)) * 1000;
}

function sentBy(fleet: SimulatedAgent[]): LoadTestResult["sent"] {
  let sessions = 0, running = 0, endedMs = 0;
  for (const agent of fleet) {
    sessions += agent.sessions;
    running += agent.running;
    endedMs += agent.endedMs;
  }
  return { sessions, running, endedMs };
}

async function adminRequest(site: BenchSite, method: string, path: string, body?: unknown) {
  const response = await fetch(`${site.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${site.admin}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${text}`);
  return JSON.parse(text);
}

async function storedSessions(site: BenchSite): Promise<StoredSessions> {
  const sql = "SELECT count(*), count(DISTINCT client_id || ' ' || session_id), " +
    "coalesce(sum(end_ms IS NULL), 0), coalesce(sum(end_ms - start_ms), 0), " +
    "count(DISTINCT substr(session_id, 1, 10)) FROM sessions";
  const { rows } = await adminRequest(site, "POST", "/v1/query", { sql });
  const [count, distinct, running, endedMs, days] = rows[0].map(Number);
  return { rows: count, distinct, running, endedMs, days };
}

/** What the site holds once it holds `sessions` rows, or after 30 s. */
async function waitForStored(site: BenchSite, sessions: number): Promise<StoredSessions> {
  const until = performance.now() + 30_000;
  let stored = await storedSessions(site);
  while (stored.rows < sessions && performance.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    stored = await storedSessions(site);
  }
  return stored;
}

/** Sessions waiting for the summariser, from the `summarization-progress` report. */
async function waitingSessions(site: BenchSite): Promise<number> {
  const report = await adminRequest(site, "GET", "/v1/reports/summarization-progress");
  return report.rows.reduce(
    (sum: number, r: { waitingSessions: number }) => sum + r.waitingSessions,
    0,
  );
}

/**
 * Samples the site's JavaScript heap in use from `/metrics`: resident memory
 * also holds SQLite's page cache and WebAssembly memory, so it cannot tell a
 * leak from a lazy collector; the heap's low points can.
 */
function sampleHeap(site: BenchSite, everyMs: number): { stop(): Promise<HeapSample[]> } {
  const samples: HeapSample[] = [];
  const started = performance.now();
  const loop = backgroundLoop(everyMs, async () => {
    const text = await (await fetch(`${site.url}/metrics`)).text();
    const heapBytes = Number(/^meter_heap_used_bytes (\d+)$/m.exec(text)?.[1]);
    if (Number.isFinite(heapBytes)) samples.push({ atMs: performance.now() - started, heapBytes });
  });
  return { stop: () => loop.stop().then(() => samples) };
}

/** Samples the summariser's backlog in the background; `stop` gives the most seen. */
function sampleBacklog(site: BenchSite, everyMs: number): { stop(): Promise<number> } {
  let peak = 0;
  const loop = backgroundLoop(everyMs, async () => {
    peak = Math.max(peak, await waitingSessions(site));
  });
  return { stop: () => loop.stop().then(() => peak) };
}

/** Returns once nothing waits for the summariser; throws after two minutes. */
async function waitForSummarised(site: BenchSite): Promise<void> {
  const until = performance.now() + 120_000;
  while (await waitingSessions(site) > 0) {
    if (performance.now() > until) throw new Error("the summariser did not catch up in 2 minutes");
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function isAlive(site: BenchSite): Promise<boolean> {
  try {
    const response = await fetch(`${site.url}/v1/health`);
    await response.body?.cancel();
    return response.status === 200;
  } catch {
    return false;
  }
}

/** `deno task bench --load-only`: the load test's figures, each next to its baseline. */
export async function benchLoad(options: LoadTestOptions = {}): Promise<BenchFigure[]> {
  const r = await runLoadTest(options);
  for (const [kind, count] of Object.entries(r.fleet.failures)) {
    progress(`load: ${count} requests failed: ${kind}, e.g. ${r.fleet.failureExamples[kind]}`);
  }
  for (const line of r.siteLog.examples) progress(`load: the site logged ${line}`);
  const every10s = r.site.filter((_, i) => i % (10_000 / SAMPLE_EVERY_MS) === 0);
  const mb = (samples: ProcessSample[], bytes: (s: ProcessSample) => number) =>
    samples.map((s) => round(bytes(s) / 1e6, 0)).join(" ");
  progress(`load: site resident memory every 10 s, MB: ${mb(every10s, (s) => s.rssBytes)}`);
  progress(`load: ... of which its own pages, MB: ${mb(every10s, (s) => s.anonBytes)}`);
  progress(`load: ... of which the native heap, MB: ${mb(every10s, (s) => s.nativeHeapBytes)}`);
  const heap = r.heap.map((h) => round(h.heapBytes / 1e6, 0)).join(" ");
  progress(`load: site JavaScript heap in use every ${SAMPLE_EVERY_MS * 5 / 1000} s, MB: ${heap}`);
  progress(`load: sync latency p99 every 30 s, ms: ${p99Every(r.fleet.latencies, 30_000)}`);
  return loadFigures(r);
}

/** The 99th percentile of the syncs sent in each `windowMs` of the load, in order. */
function p99Every(latencies: LatencySample[], windowMs: number): string {
  const windows: number[][] = [];
  for (const l of latencies) (windows[Math.floor(l.atMs / windowMs)] ??= []).push(l.ms);
  return windows.map((w) => w ? round(percentile(w, 0.99), 0) : "-").join(" ");
}
