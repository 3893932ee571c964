/**
 * What a flood of requests with a bad token costs a site as shipped: 5,000
 * of them from one address as fast as eight connections send them, against
 * a real site process. Figures: the audit rows and database bytes the flood
 * leaves, against one row per refused request (what the audit log kept
 * before refusals were counted on one row), and `GET /v1/health` p90 during
 * the flood against the idle site.
 *
 * @module
 */
import { type BenchFigure, progress, round } from "./bench_figure.ts";
import { startBenchSite } from "./bench_site.ts";
import { percentile, sampleGetLatency } from "./request_latency.ts";

const REQUESTS = 5_000;
const CONNECTIONS = 8;

/** The database's size on disk with its WAL, bytes. */
async function databaseBytes(db: string): Promise<number> {
  let total = 0;
  for (const file of [db, `${db}-wal`]) total += await Deno.stat(file).then((s) => s.size, () => 0);
  return total;
}

async function auditRows(url: string, admin: string): Promise<{ rows: number; count: number }> {
  const response = await fetch(`${url}/v1/audit?limit=10000`, {
    headers: { authorization: `Bearer ${admin}` },
  });
  const { entries } = await response.json() as { entries: { count: number }[] };
  return { rows: entries.length, count: entries.reduce((sum, e) => sum + e.count, 0) };
}

async function flood(url: string): Promise<Map<number, number>> {
  const statuses = new Map<number, number>();
  let sent = 0;
  await Promise.all(Array.from({ length: CONNECTIONS }, async () => {
    while (sent < REQUESTS) {
      sent++;
      const response = await fetch(`${url}/v1/rules`, {
        headers: { authorization: "Bearer mtr_not-a-token" },
      });
      await response.body?.cancel();
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
    }
  }));
  return statuses;
}

export async function benchRefusalFlood(): Promise<BenchFigure[]> {
  const dir = await Deno.makeTempDir({ prefix: "meter-bench-flood-" });
  const site = await startBenchSite(dir, { asShipped: true });
  try {
    progress(`refusal flood: ${REQUESTS} requests with a bad token`);
    const idle = sampleGetLatency(`${site.url}/v1/health`, 20);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const idleP90 = percentile((await idle.stop()).times, 0.9);
    const before = await auditRows(site.url, site.admin);
    const bytesBefore = await databaseBytes(site.db);
    const loaded = sampleGetLatency(`${site.url}/v1/health`, 20);
    const started = performance.now();
    const statuses = await flood(site.url);
    const seconds = (performance.now() - started) / 1000;
    const floodP90 = percentile((await loaded.stop()).times, 0.9);
    const after = await auditRows(site.url, site.admin);
    const grown = (await databaseBytes(site.db)) - bytesBefore;
    progress(`refusal flood: ${JSON.stringify(Object.fromEntries(statuses))} in ${seconds} s`);
    return [
      {
        name: `refusal flood: audit rows after ${REQUESTS} bad-token requests`,
        value: after.rows - before.rows,
        unit: "rows",
        baseline: { name: "one row per refusal", value: after.count - before.count },
      },
      {
        name: "refusal flood: database growth",
        value: round(grown / 1024, 0),
        unit: "KiB",
      },
      {
        name: "refusal flood: health p90 during it",
        value: round(floodP90, 1),
        unit: "ms",
        baseline: { name: "idle site", value: round(idleP90, 1) },
      },
    ];
  } finally {
    await site.stop();
    await Deno.remove(dir, { recursive: true });
  }
}
