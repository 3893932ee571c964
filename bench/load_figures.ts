/**
 * The load test's figures (`load_test.ts`), each next to a baseline of the
 * same run: throughput next to the load offered, sync latency next to
 * `GET /v1/health` under the same load, the last third of the load next to
 * the first (after a warm-up) for latency and memory, what the site stored
 * next to what the agents sent.
 *
 * @module
 */
import { type BenchFigure, round } from "./bench_figure.ts";
import type { LatencySample } from "./load_fleet.ts";
import type { LoadTestResult } from "./load_result.ts";
import type { ProcessSample } from "./process_stats.ts";
import { percentile } from "./request_latency.ts";

export function loadFigures(r: LoadTestResult): BenchFigure[] {
  const figures = [
    ...throughputFigures(r),
    ...latencyFigures(r),
    ...memoryFigures(r),
    ...ingestFigures(r),
    ...(r.busy ? busyFigures(r) : []),
  ];
  // A percentile of nothing (no sync carried usage, in a heartbeats-only experiment) is left out.
  return figures.filter((f) => !Number.isNaN(f.value));
}

function throughputFigures(r: LoadTestResult): BenchFigure[] {
  const { fleet } = r;
  const [min, max] = r.intervalSeconds;
  const failed = Object.values(fleet.failures).reduce((a, b) => a + b, 0);
  const sent = { name: "requests sent", value: fleet.sent };
  return [
    {
      name: r.busy
        ? `load, ${r.agents} agents at a busy day's pace for ${r.seconds} s: sync requests answered`
        : `load, ${r.agents} agents syncing every ${min}-${max} s for ${r.seconds} s: ` +
          "sync requests answered",
      value: round(fleet.latencies.length / fleet.loadSeconds, 1),
      unit: "requests/s",
      baseline: r.busy
        ? { name: "timed syncs alone: agents / 300 s", value: round(r.agents / 300, 1) }
        : {
          name: "offered: agents / mean interval",
          value: round(r.agents / ((min + max) / 2), 1),
        },
    },
    {
      name: "load: new sessions ingested",
      value: round(fleet.sessionsConfirmed / fleet.loadSeconds, 1),
      unit: "sessions/s",
      baseline: {
        name: "recorded by the agents",
        value: round((r.sent.sessions - r.sentBeforeLoad) / fleet.loadSeconds, 1),
      },
    },
    {
      name: "load: running sessions ended (records updated)",
      value: round(fleet.updatesConfirmed / fleet.loadSeconds, 1),
      unit: "updates/s",
    },
    {
      name: "load: requests answered 429 (allowed)",
      value: fleet.rateLimited,
      unit: "",
      baseline: sent,
    },
    {
      name: "load: requests failed otherwise",
      value: failed,
      unit: "",
      baseline: sent,
      target: "<= 0",
    },
    {
      name: "load: site CPU",
      value: round((r.siteCpuSeconds / fleet.loadSeconds) * 100, 0),
      unit: "% of a core",
      baseline: {
        name: "the load driver's, same machine",
        value: round((r.driverCpuSeconds / fleet.loadSeconds) * 100, 0),
      },
    },
  ];
}

function latencyFigures(r: LoadTestResult): BenchFigure[] {
  const ms = (values: number[], p: number) => round(percentile(values, p), 1);
  const sync = r.fleet.latencies.map((l) => l.ms);
  const health = r.health.loaded;
  const healthBaseline = (p: number, what: string) => ({
    name: `GET /v1/health ${what}, same load`,
    value: ms(health, p),
  });
  const times = (samples: LatencySample[]) => samples.map((l) => l.ms);
  const [first, last] = thirds(r.fleet.latencies, (l) => l.atMs, r);
  return [
    {
      name: "load: sync latency p50",
      value: ms(sync, 0.5),
      unit: "ms",
      baseline: healthBaseline(0.5, "p50"),
    },
    {
      name: "load: sync latency p95",
      value: ms(sync, 0.95),
      unit: "ms",
      baseline: healthBaseline(0.95, "p95"),
    },
    {
      name: "load: sync latency p99",
      value: ms(sync, 0.99),
      unit: "ms",
      baseline: healthBaseline(0.99, "p99"),
    },
    {
      name: "load: sync latency max",
      value: ms(sync, 1),
      unit: "ms",
      baseline: healthBaseline(1, "max"),
    },
    {
      name: "load: sync latency p95, syncs with new usage",
      value: ms(times(r.fleet.latencies.filter((l) => l.usage)), 0.95),
      unit: "ms",
      baseline: {
        name: "syncs with nothing new",
        value: ms(times(r.fleet.latencies.filter((l) => !l.usage)), 0.95),
      },
    },
    {
      name: "load: sync latency p95, last third of the load",
      value: ms(times(last), 0.95),
      unit: "ms",
      baseline: { name: "first third after warm-up", value: ms(times(first), 0.95) },
    },
    {
      name: "load: GET /v1/health p95 under the load",
      value: ms(health, 0.95),
      unit: "ms",
      baseline: { name: "unloaded, same site", value: ms(r.health.unloaded, 0.95) },
    },
  ];
}

/**
 * The JavaScript heap, first third after warm-up against the last. A sample
 * holds garbage not yet collected too (the site collects once the heap grew
 * by 48 MB), so the lowest sample of each third stands for the live data:
 * flat unless something is kept.
 */
function heapFigures(r: LoadTestResult): BenchFigure[] {
  if (r.heap.length === 0) return [];
  const lowest = (samples: { heapBytes: number }[]) => Math.min(...samples.map((s) => s.heapBytes));
  const [first, last] = thirds(r.heap, (s) => s.atMs, r);
  if (first.length === 0 || last.length === 0) return [];
  return [
    {
      name: "load: site JavaScript heap, lowest in the last third",
      value: round(lowest(last) / 1e6, 0),
      unit: "MB",
      baseline: {
        name: "lowest in the first third after warm-up",
        value: round(lowest(first) / 1e6, 0),
      },
    },
    {
      name: "load: site JavaScript heap growth, lowest of the last third over the first",
      value: round((lowest(last) / Math.max(1, lowest(first)) - 1) * 100, 1),
      unit: "%",
      target: "<= 10",
    },
  ];
}

function memoryFigures(r: LoadTestResult): BenchFigure[] {
  const mb = (bytes: number) => round(bytes / 1e6, 0);
  const native = (s: ProcessSample) => s.nativeHeapBytes;
  const [first, last] = thirds(r.site, (s) => s.atMs, r);
  return [
    {
      name: "load: site resident memory, peak",
      value: mb(Math.max(...r.site.map((s) => s.rssBytes))),
      unit: "MB",
      baseline: { name: "before the load, agents enrolled", value: mb(r.before.rssBytes) },
    },
    {
      name: "load: site resident memory, mean of the last third",
      value: mb(mean(last)),
      unit: "MB",
      baseline: { name: "first third after warm-up", value: mb(mean(first)) },
    },
    {
      name: "load: site resident memory growth, last third over first",
      value: round((mean(last) / mean(first) - 1) * 100, 1),
      unit: "%",
      target: "<= 10",
    },
    {
      // SQLite's page cache (up to 64 MiB) fills here as the database grows.
      name: "load: site native heap (malloc), mean of the last third",
      value: mb(mean(last, native)),
      unit: "MB",
      baseline: { name: "first third after warm-up", value: mb(mean(first, native)) },
    },
    ...heapFigures(r),
    {
      name: "load: hot document cache hits",
      value: round((r.cache.hits / Math.max(1, r.cache.hits + r.cache.misses)) * 100, 1),
      unit: "%",
      baseline: { name: "misses: documents loaded from libSQL", value: r.cache.misses },
    },
    {
      name: "load: site open files (connections), peak",
      value: Math.max(...r.site.map((s) => s.fds)),
      unit: "",
      baseline: { name: "before the load", value: r.before.fds },
    },
  ];
}

function ingestFigures(r: LoadTestResult): BenchFigure[] {
  const { sent, stored } = r;
  const wrong = Math.abs(sent.sessions - stored.rows) + (stored.rows - stored.distinct) +
    Math.abs(sent.running - stored.running);
  const hours = (ms: number) => round(ms / 3_600_000, 3);
  const figures: BenchFigure[] = [
    {
      name: "load: sessions stored",
      value: stored.rows,
      unit: "",
      baseline: { name: "sent by the agents", value: sent.sessions },
    },
    {
      name: "load: sessions missing, duplicated or wrongly running or ended",
      value: wrong,
      unit: "",
      target: "<= 0",
    },
    {
      name: "load: run time of the ended sessions, stored",
      value: hours(stored.endedMs),
      unit: "h",
      baseline: { name: "sent", value: hours(sent.endedMs) },
    },
    {
      name: "load: every session stored, after the load ended",
      value: round(r.storedAfterSeconds, 1),
      unit: "s",
      baseline: {
        name: "the last agent's last sync confirmed",
        value: round(r.fleet.drainSeconds, 2),
      },
      target: "<= 10",
    },
    {
      name: "load: sessions waiting for the summariser, most seen",
      value: r.backlogPeak,
      unit: "",
    },
  ];
  if (r.summariesAfterSeconds !== undefined) {
    figures.push({
      name: "load: nothing waits for the summariser, after the load ended",
      value: round(r.summariesAfterSeconds, 1),
      unit: "s",
      target: "<= 60",
    });
  }
  figures.push(
    {
      name: "load: site log lines at warn or error",
      value: r.siteLog.warnings + r.siteLog.errors,
      unit: "",
      target: "<= 0",
    },
    {
      name: "load: site alive after the load",
      value: r.siteAlive ? 1 : 0,
      unit: "",
      target: ">= 1",
    },
  );
  return figures;
}

/** What only a fleet at a busy day's pace shows: its waits for rules, the way to the reports, the targets. */
function busyFigures(r: LoadTestResult): BenchFigure[] {
  const ms = (values: number[], p: number) => round(percentile(values, p), 1);
  const sync = r.fleet.latencies.map((l) => l.ms);
  const [first, last] = thirds(r.site, (s) => s.atMs, r);
  const waits = r.waits;
  const lag = r.reportLagMs ?? [];
  const figures: BenchFigure[] = [
    {
      name: "fleet: sync latency p99",
      value: ms(sync, 0.99),
      unit: "ms",
      target: "<= 500",
    },
    {
      name: "fleet: GET /v1/health p99 under the load (from a process of its own)",
      value: ms(r.health.loaded, 0.99),
      unit: "ms",
      target: "<= 100",
    },
    {
      name: "fleet: the load driver's timers late, p99 (carried by its sync times)",
      value: ms(r.driverDelayMs, 0.99),
      unit: "ms",
      baseline: { name: "p50", value: ms(r.driverDelayMs, 0.5) },
    },
    {
      name: "fleet: site resident memory, mean of the last third",
      value: round(mean(last) / 1e6, 0),
      unit: "MB",
      baseline: { name: "first third after warm-up", value: round(mean(first) / 1e6, 0) },
      target: "<= 400",
    },
    {
      name: "fleet: site resident memory growth, last third over first",
      value: round((mean(last) / mean(first) - 1) * 100, 1),
      unit: "%",
      target: "<= 5",
    },
  ];
  if (waits) {
    figures.push({
      name: "fleet: waits for new rules answered",
      value: round(waits.answered / r.fleet.loadSeconds, 1),
      unit: "requests/s",
      baseline: {
        name: "of them answered at once (site holding maxWaitingAgents)",
        value: round(waits.notHeld / r.fleet.loadSeconds, 1),
      },
    });
  }
  const heard = waits?.heardMs ?? [];
  if (heard.length > 0) {
    const withinMinute = heard.filter((ms) => ms <= 60_000).length;
    figures.push({
      name: "fleet: agents holding a rule added during the load, within 60 s",
      value: round((withinMinute / r.agents) * 100, 1),
      unit: "%",
      baseline: {
        name: `the last of ${heard.length} agents, s after the change`,
        value: round(Math.max(...heard) / 1000, 1),
      },
      target: ">= 100",
    });
  }
  if (lag.length > 0) {
    figures.push({
      name: "fleet: a session stored to the users-ran report, slowest probe",
      value: round(Math.max(...lag) / 1000, 1),
      unit: "s",
      baseline: {
        name: `median of ${lag.length} probes`,
        value: round(percentile(lag, 0.5) / 1000, 1),
      },
      target: "<= 60",
    });
  }
  return figures;
}

/**
 * The mean of some samples' bytes (resident memory unless told); NaN for
 * none, so that a third with no sample (the sampler could not read the
 * site's /proc files) shows as missing and misses its target, instead of
 * passing as 0 MB.
 */
function mean(samples: ProcessSample[], bytes = (s: ProcessSample) => s.rssBytes): number {
  return samples.length === 0
    ? NaN
    : samples.reduce((sum, s) => sum + bytes(s), 0) / samples.length;
}

/** The items in the first and in the last third of the load after its warm-up. */
function thirds<T>(items: T[], atMs: (item: T) => number, r: LoadTestResult): [T[], T[]] {
  const end = r.seconds * 1000;
  const third = (end - r.warmUpMs) / 3;
  const within = (from: number, to: number) =>
    items.filter((item) => atMs(item) >= from && atMs(item) < to);
  return [within(r.warmUpMs, r.warmUpMs + third), within(end - third, end)];
}
