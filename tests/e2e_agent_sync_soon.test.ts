/**
 * Usage recorded while a sync is under way goes with the next sync, soon,
 * not at the agent's sync interval: a sync cycle flushes first, so a session
 * that ends while the cycle talks to the site was not in it.
 *
 * The site is real; a loopback proxy in front of it holds each sync request
 * for a few seconds, so that a program ends while a cycle is under way.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { join } from "node:path";
import { copySleep, runProgram, tempDir, uniqueName } from "./helpers/metered_program.ts";
import {
  type MeterProcess,
  type SiteHandle,
  startAgent,
  startSite,
} from "./helpers/meter_process.ts";
import { addRule, makeToken, sessions } from "./helpers/site_api.ts";
import { sleep, waitFor } from "./helpers/wait_for.ts";

/** Forwards every request to `target`, holding sync requests `holdMs` first. */
function holdingProxy(target: string) {
  const proxy = {
    holdMs: 0,
    syncs: 0,
    server: Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
      const url = new URL(request.url);
      if (url.pathname === "/v1/sync") {
        proxy.syncs++;
        await sleep(proxy.holdMs);
      }
      return await fetch(new URL(url.pathname + url.search, target), {
        method: request.method,
        headers: request.headers,
        body: request.body,
      });
    }),
  };
  return proxy;
}

describe("an agent whose sync is slow", () => {
  let temp: Awaited<ReturnType<typeof tempDir>>;
  let site: SiteHandle;
  let proxy: ReturnType<typeof holdingProxy>;
  let agent: MeterProcess;

  beforeAll(async () => {
    temp = await tempDir();
    site = await startSite(temp.dir);
    proxy = holdingProxy(site.url);
  });

  afterAll(async () => {
    await agent?.stop();
    await proxy?.server.shutdown();
    await site?.process.stop();
    await temp?.remove();
  });

  test("sends a session that ended during a sync at once, not at the interval", async () => {
    const admin = await makeToken(site.db, "admin");
    const name = uniqueName("mtest-soon");
    const program = await copySleep(temp.dir, name);
    const rule = await addRule(site.url, admin, { name: "soon", fileName: name });
    agent = startAgent(`http://127.0.0.1:${proxy.server.addr.port}`, {
      db: join(temp.dir, "agent.db"),
      enrollToken: await makeToken(site.db, "enroll"),
      interval: 600,
      poll: 0.25,
      syncDelay: 0.5,
    });
    await waitFor(
      `the agent to receive the rule\n${agent.tail()}`,
      () => agent.logged("rules loaded").some((e) => e.rules === 1),
    );
    await waitFor(
      "the agent's inventory to be sent",
      () =>
        agent.logged("inventory changed").length > 0 &&
        agent.logged("synced").some((e) => Number(e.bytesSent) > 10_000),
    );
    // The start goes in a cycle held 3 s; the run ends 1.5 s in, during it.
    proxy.holdMs = 3_000;
    const syncsBefore = proxy.syncs;
    const run = runProgram(program, 1.5);
    await run.ended;
    const [session] = await waitFor(
      `the ended session at the site\n${agent.tail()}`,
      async () => {
        const found = await sessions(site.url, admin, { rule: rule.id });
        return found.length > 0 && found[0].end !== null ? found : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(session.pid).toBe(run.pid);
    expect(proxy.syncs - syncsBefore).toBeGreaterThanOrEqual(2);
  });
});
