/**
 * Inventory figures:
 *
 * 1. **This machine's full inventory**: wall time and CPU of a first run
 *    (every executable hashed) and of a re-inventory (hashes from the
 *    cache), against `dpkg-query -W` listing names and versions; the bytes of the
 *    inventory document; and what a re-inventory with no change writes
 *    (nothing: no change, the heads stay, a sync has nothing to send).
 * 2. **Report latency at scale**: a site database holding 10,000 clients
 *    with 1,500 products each (generated in SQL, about 15 million `software`
 *    rows and 4.5 million executables), 50 rules and a month of usage
 *    summaries; `install-base` and `installed-not-run` are timed through a
 *    real site process (median and 95th percentile), against
 *    `GET /v1/health` on the same site, target p95 under 300 ms.
 *
 * `deno run -A bench/inventory_bench.ts [--clients N] [--products N]` runs
 * it alone.
 *
 * @module
 */
import * as A from "@automerge/automerge";
import { cpuUsage } from "node:process";
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  agentSchema,
  collectInventory,
  defaultInventorySources,
  ExecutableHashes,
  realFileName,
  writeInventory,
} from "../agent/mod.ts";
import { generatedClientsStatement, openSiteDatabase } from "../site/mod.ts";
import { type Client, openDatabase } from "../store/db.ts";
import { DAY_MS, inventoryDocId } from "../model/doc_id.ts";
import { DocStore } from "../store/doc_store.ts";
import { type BenchFigure, progress, renderFigures, round } from "./bench_figure.ts";
import { startBenchSite } from "./bench_site.ts";
import { measureGet } from "./request_latency.ts";

const REPORT_TARGET_MS = 300;

export async function benchInventory(
  options: { clients?: number; products?: number } = {},
): Promise<BenchFigure[]> {
  return [
    ...await benchThisMachine(),
    ...await benchReports(options.clients ?? 10_000, options.products ?? 1_500),
  ];
}

async function timed<T>(work: () => Promise<T>) {
  const cpu = cpuUsage();
  const started = performance.now();
  const result = await work();
  const used = cpuUsage(cpu);
  return { result, ms: performance.now() - started, cpuMs: (used.user + used.system) / 1000 };
}

async function benchThisMachine(): Promise<BenchFigure[]> {
  const dir = await Deno.makeTempDir({ prefix: "meter-bench-inventory-" });
  const db = await openDatabase(join(dir, "agent.db"), agentSchema);
  try {
    const docs = new DocStore(db);
    const actor = crypto.randomUUID().replaceAll("-", "");
    // Hash everything on the first run, to time the worst case.
    const hashes = new ExecutableHashes(db, Number.MAX_SAFE_INTEGER);
    const sources = defaultInventorySources();
    progress("inventory: this machine, first run (every executable hashed)");
    const first = await timed(() => collectInventory(sources, hashes, realFileName));
    const written = await writeInventory(docs, "bench", actor, first.result);
    const doc = (await docs.load(inventoryDocId("bench"), actor))!;
    const docBytes = A.save(doc).length;
    const heads = A.getHeads(doc).join();
    progress("inventory: this machine, second run (no change)");
    const second = await timed(() => collectInventory(sources, hashes, realFileName));
    const rewrite = await writeInventory(docs, "bench", actor, second.result);
    const unchanged = A.getHeads((await docs.load(inventoryDocId("bench"), actor))!).join() ===
      heads;
    const dpkgQuery = await timed(() =>
      new Deno.Command("dpkg-query", { args: ["-W"], stdout: "null", stderr: "null" }).output()
        .catch(() => undefined)
    );
    const files = [...first.result.products.values()].reduce((n, p) => n + p.files.length, 0);
    progress(
      `inventory: ${written.products} products, ${files} executables, ` +
        `${first.result.filesHashed} hashed; re-inventory wrote ${rewrite.put + rewrite.deleted} ` +
        `records, heads ${unchanged ? "unchanged" : "CHANGED"}`,
    );
    return [
      {
        name: `full inventory of this machine, first run (${written.products} products, ${files} ` +
          `executables hashed), wall time`,
        value: round(first.ms, 0),
        unit: "ms",
        baseline: {
          name: "dpkg-query -W listing names and versions only, ms",
          value: round(dpkgQuery.ms, 0),
        },
      },
      { name: "full inventory, first run, CPU", value: round(first.cpuMs, 0), unit: "ms" },
      {
        name: "re-inventory, hashes cached, wall time",
        value: round(second.ms, 0),
        unit: "ms",
        baseline: { name: "first run, ms", value: round(first.ms, 0) },
      },
      { name: "re-inventory, hashes cached, CPU", value: round(second.cpuMs, 0), unit: "ms" },
      {
        name: "inventory document, saved",
        value: docBytes,
        unit: "bytes",
        baseline: { name: "bytes per product", value: round(docBytes / written.products, 0) },
      },
      {
        name: "re-inventory with no change: records written (heads " +
          `${unchanged ? "unchanged" : "changed"})`,
        value: rewrite.put + rewrite.deleted,
        unit: "records",
        target: "<= 0",
      },
    ];
  } finally {
    db.close();
    await Deno.remove(dir, { recursive: true });
  }
}

async function benchReports(clients: number, products: number): Promise<BenchFigure[]> {
  const dir = await Deno.makeTempDir({ prefix: "meter-bench-install-base-" });
  try {
    const db = await openSiteDatabase(join(dir, "site.db"));
    const rules = await generateFleet(db, clients, products);
    db.close();
    const site = await startBenchSite(dir);
    const authorization = `Bearer ${site.admin}`;
    try {
      const calls = 20;
      const health = await measureGet(`${site.url}/v1/health`, authorization, calls);
      const since = new Date(Date.now() - 14 * DAY_MS).toISOString().slice(0, 10);
      // installed-not-run for the most widely installed rule: the most rows.
      const widest = rules.reduce((a, b) => (b.share > a.share ? b : a));
      const paths = [
        "/v1/reports/install-base?days=30",
        `/v1/reports/installed-not-run?rule=${widest.id}&since=${since}`,
        "/v1/reports/software?client=host-7",
      ];
      const figures: BenchFigure[] = [];
      for (const path of paths) {
        const latency = await measureGet(`${site.url}${path}`, authorization, calls);
        progress(
          `inventory reports: ${path}: median ${round(latency.medianMs, 1)} ms, p95 ${
            round(latency.p95Ms, 1)
          } ms, ${latency.bytes} bytes`,
        );
        figures.push({
          name: `GET ${path} at ${clients} clients × ${products} products, p95 of ${calls}`,
          value: round(latency.p95Ms, 1),
          unit: "ms",
          baseline: { name: "GET /v1/health, p95", value: round(health.p95Ms, 2) },
          target: `<= ${REPORT_TARGET_MS}`,
        });
      }
      return figures;
    } finally {
      await site.stop();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * Clients `c0..`, each with about `products` of a pool of twice as many:
 * product `n` is installed on a share of the computers from 5% to 95%
 * (`5 + 37n mod 91` percent, spread over the computers by a hash), so the
 * average computer holds `products`. The first 40% of the pool provide one
 * program each. 50 rules name programs spread over the pool, so their install
 * shares spread from 5% to 95% too, and a third of the computers that have a
 * rule's program used it within the last month.
 */
async function generateFleet(db: Client, clients: number, products: number) {
  const pool = products * 2;
  const programs = Math.round(pool * 0.4);
  const now = Date.now();
  progress(`inventory reports: generating ${clients} clients × ~${products} products`);
  const started = performance.now();
  await db.execute("PRAGMA journal_mode = WAL");
  await db.execute(generatedClientsStatement(clients, "c%d", now));
  // One client at a time keeps each transaction (and the WAL) small.
  for (let c = 0; c < clients; c++) {
    await db.batch([{
      sql: `INSERT INTO software (client_id, product_key, name, name_lc, version, publisher,
          source, installed_at)
        WITH RECURSIVE p(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM p WHERE n + 1 < ?)
        SELECT ?, 'dpkg/pkg' || n || ':amd64', 'pkg' || n, 'pkg' || n,
          (n % 7) || '.' || (? % 5) || '-1',
          'Maintainer ' || (n % 40), 'dpkg', ?
        FROM p WHERE ((? * 7919 + n * 104729) % 100) < 5 + (n * 37) % 91`,
      args: [pool, `c${c}`, c, now - 100 * DAY_MS, c],
    }, {
      sql: `INSERT INTO software_files (client_id, product_key, path, file_name, real_name,
          sha256)
        SELECT client_id, product_key, '/usr/bin/' || name, name, NULL, NULL FROM software
        WHERE client_id = ? AND CAST(substr(name, 4) AS INTEGER) < ?`,
      args: [`c${c}`, programs],
    }], "write");
    if (c % 1000 === 999) {
      progress(
        `inventory reports: ${c + 1} clients written (${
          round((performance.now() - started) / 1000, 0)
        } s)`,
      );
    }
  }
  const rules: { id: string; share: number }[] = [];
  const month = new Date(now).toISOString().slice(0, 7);
  for (let r = 0; r < 50; r++) {
    const id = `S01-${r + 1}`;
    const program = Math.floor((r * programs) / 50);
    rules.push({ id, share: 5 + (program * 37) % 91 });
    await db.batch([{
      sql: `INSERT INTO rules (id, name, file_name, original_file_name, sha256, version, language,
          site_code, apply_to_child_sites, enabled, comment, origin, created_at, updated_at)
        VALUES (?, ?, ?, NULL, NULL, '*', NULL, 'S01', 0, 1, '', 'manual', ?, ?)`,
      args: [id, `Program ${program}`, `pkg${program}`, now, now],
    }, {
      sql: `INSERT INTO monthly_usage (rule_id, month, user_name, client_id, runs, run_ms,
          last_use_ms, remote_runs, remote_run_ms)
        SELECT ?, ?, 'user', client_id, 3, 600000, ? - (abs(random()) % 2000000000), 0, 0
        FROM software_files WHERE file_name = ? AND (abs(random()) % 3) = 0`,
      args: [id, month, now, `pkg${program}`],
    }], "write");
  }
  const count = await db.execute(
    "SELECT (SELECT count(*) FROM software) AS software, (SELECT count(*) FROM software_files) AS files",
  );
  progress(
    `inventory reports: ${count.rows[0].software} software rows, ${count.rows[0].files} ` +
      `executables, 50 rules, in ${round((performance.now() - started) / 1000, 0)} s`,
  );
  await db.execute("ANALYZE");
  return rules;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { clients: { type: "string" }, products: { type: "string" } },
  });
  const figures = await benchInventory({
    clients: values.clients ? Number(values.clients) : undefined,
    products: values.products ? Number(values.products) : undefined,
  });
  console.log("\n" + renderFigures(figures));
}
