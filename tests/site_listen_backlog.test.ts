/**
 * The kernel holds up to 4,096 connections for a site that has not
 * accepted them yet (`LISTEN_BACKLOG`, capped by `net.core.somaxconn`).
 * The site accepts on the thread that answers requests; at 50,000 agents,
 * Deno's default queue of 511 overflowed whenever that thread paused for a
 * third of a second, and the kernel dropped connections that agents then
 * retried seconds later. Here a real site process is stopped (SIGSTOP), so
 * that it accepts nothing, and 1,500 connections are opened to it: each
 * completes its handshake in the kernel's queue. With a queue of 511 about
 * a thousand of them would hang. Once the site runs again it answers.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import { type SiteHandle, startSite } from "./helpers/meter_process.ts";
import { tempDir } from "./helpers/metered_program.ts";

const CONNECTIONS = 1_500;

let temp: Awaited<ReturnType<typeof tempDir>>;
let site: SiteHandle;

beforeAll(async () => {
  temp = await tempDir();
  site = await startSite(temp.dir);
});

afterAll(async () => {
  await site?.process.stop();
  await temp?.remove();
});

/**
 * Connections that complete within `ms`. Each is closed as soon as it
 * completes: it stays in the site's queue until the site accepts it.
 */
async function connectAll(port: number, count: number, ms: number): Promise<number> {
  const attempts = Array.from(
    { length: count },
    () =>
      Deno.connect({ hostname: "127.0.0.1", port }).then((conn) => {
        conn.close();
        return true;
      }, () => false),
  );
  const timeout = new Promise<"late">((resolve) => setTimeout(() => resolve("late"), ms));
  const done = await Promise.all(attempts.map((a) => Promise.race([a, timeout])));
  return done.filter((d) => d === true).length;
}

test("a site that accepts nothing for a while still has its connections queued", async () => {
  const somaxconn = Number(await Deno.readTextFile("/proc/sys/net/core/somaxconn"));
  const expected = Math.min(CONNECTIONS, somaxconn);
  Deno.kill(site.process.pid, "SIGSTOP");
  let connected: number;
  try {
    connected = await connectAll(site.port, CONNECTIONS, 3_000);
  } finally {
    Deno.kill(site.process.pid, "SIGCONT");
  }
  // The queue holds one more than its length on Linux.
  expect(connected).toBeGreaterThanOrEqual(expected);
  const health = await fetch(new URL("/v1/health", site.url));
  expect(health.status).toBe(200);
  await health.body?.cancel();
});
