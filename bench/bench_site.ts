/**
 * A real site process for benchmarks, on a fresh database, with tokens and
 * enrolled clients, and a way to read its CPU time and memory from /proc.
 *
 * @module
 */
import { join } from "node:path";
import {
  createToken,
  DEFAULT_SETTINGS,
  openSiteDatabase,
  saveSettings,
  SITE_V8_FLAGS,
  type SiteSettings,
} from "../site/mod.ts";
import { newActorId } from "../lib/secret.ts";
import { cpuSeconds, residentMemory } from "./process_stats.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

export interface BenchSite {
  url: string;
  db: string;
  pid: number;
  admin: string;
  enroll: string;
  stop(): Promise<void>;
  /** CPU seconds (user + system) the site process has used. */
  cpuSeconds(): number;
  /** Resident memory of the site process, bytes. */
  rssBytes(): number;
}

export interface BenchSiteOptions {
  /**
   * Run the site as shipped: its default rate limits and document cache.
   * Otherwise capacity is measured (thousands of requests a second from few
   * agents), so there are no limits and the cache holds 20,000 documents.
   */
  asShipped?: boolean;
  /** Settings changed over those. */
  settings?: Partial<SiteSettings>;
  /** Called with each line the site logs (warnings and errors) on stderr. */
  onLog?: (line: string) => void;
  /** More flags for `meter site`, e.g. `["--sync-threads", "1"]`. */
  args?: string[];
}

export async function startBenchSite(
  dir: string,
  options: BenchSiteOptions = {},
): Promise<BenchSite> {
  const db = join(dir, "site.db");
  const tokens = await openSiteDatabase(db);
  const admin = (await createToken(tokens, "admin")).token;
  const enroll = (await createToken(tokens, "enroll")).token;
  const unlimited = { syncRequestsPerMinute: 1_000_000, enrollRequestsPerMinute: 1_000_000 };
  await saveSettings(tokens, {
    ...DEFAULT_SETTINGS,
    ...(options.asShipped ? {} : unlimited),
    ...options.settings,
  });
  tokens.close();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      // As the packaged unit runs it.
      `--v8-flags=${SITE_V8_FLAGS}`,
      ...(Deno.env.get("BENCH_SITE_PROFILE")
        ? ["--cpu-prof", "--cpu-prof-dir=" + Deno.env.get("BENCH_SITE_PROFILE")]
        : []),
      MAIN,
      "site",
      "--db",
      db,
      "--port",
      "0",
      "--hostname",
      "127.0.0.1",
      ...(options.asShipped ? [] : ["--doc-cache", "20000"]),
      ...(options.args ?? []),
      // More flags from whoever runs the benchmark, to compare settings: `--sync-threads 1`.
      ...(Deno.env.get("BENCH_SITE_ARGS")?.split(" ").filter(Boolean) ?? []),
    ],
    stdout: "piped",
    stderr: options.onLog ? "piped" : "null",
    env: { METER_LOG_LEVEL: "warn" },
  }).spawn();
  if (options.onLog) forEachLine(child.stderr, options.onLog);
  const url = await firstUrl(child.stdout);
  const pid = child.pid;
  return {
    url,
    db,
    pid,
    admin,
    enroll,
    async stop() {
      child.kill("SIGTERM");
      await child.status;
    },
    cpuSeconds: () => cpuSeconds(pid),
    rssBytes: () => residentMemory(pid).total,
  };
}

async function forEachLine(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void) {
  let rest = "";
  for await (const text of stream.pipeThrough(new TextDecoderStream())) {
    const lines = (rest + text).split("\n");
    rest = lines.pop()!;
    lines.forEach(onLine);
  }
  if (rest) onLine(rest);
}

async function firstUrl(stdout: ReadableStream<Uint8Array>): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  const reader = stdout.getReader();
  while (!/http:\/\/\S+/.test(text)) {
    const { value, done } = await reader.read();
    if (done) throw new Error("the site exited before listening");
    text += decoder.decode(value);
  }
  reader.releaseLock();
  stdout.cancel().catch(() => {});
  return /(http:\/\/\S+)/.exec(text)![1];
}

export interface EnrolledClient {
  clientId: string;
  secret: string;
  actor: string;
}

/** Enrols `count` clients, a few at a time. */
export async function enrollClients(site: BenchSite, count: number): Promise<EnrolledClient[]> {
  const clients: EnrolledClient[] = [];
  await runConcurrently(count, 16, async () => {
    const actor = newActorId();
    const response = await fetch(`${site.url}/v1/enroll`, {
      method: "POST",
      headers: { authorization: `Bearer ${site.enroll}`, "content-type": "application/json" },
      body: JSON.stringify({ hostName: `bench-${clients.length}`, actor }),
    });
    if (response.status !== 201) {
      throw new Error(`enrol: ${response.status} ${await response.text()}`);
    }
    const { clientId, secret } = await response.json();
    clients.push({ clientId, secret, actor });
  });
  return clients;
}

/** Runs `task` `count` times with at most `concurrency` at once. */
export async function runConcurrently(
  count: number,
  concurrency: number,
  task: (index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}
