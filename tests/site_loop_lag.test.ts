/**
 * A site whose thread runs behind with its requests answers syncs 429
 * `site_busy` at once, before reading their bodies, and stores nothing of
 * them; health checks and refusals of bad credentials are answered as
 * before. Once the thread catches up, the same sync is taken and its
 * session stored once. The lag is real: the test keeps the thread the site
 * runs on (its own) busy in long stretches, as a flood of syncs would.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { dayOf, usageDocId } from "../model/doc_id.ts";
import { LoopLag } from "../site/http/loop_lag.ts";
import {
  enrollFakeAgent,
  type FakeAgent,
  itemFor,
  newRecordDoc,
  sendBatch,
  session,
  writeSessions,
} from "./helpers/fake_agent.ts";
import { type ReportSite, startReportSite } from "./helpers/report_site.ts";
import { addRule } from "./helpers/site_api.ts";

/** Keeps this thread busy in stretches of `ms`, letting timers and I/O run between them. */
function keepBusy(ms: number): { stop(): Promise<void> } {
  let going = true;
  const done = (async () => {
    while (going) {
      const until = performance.now() + ms;
      while (performance.now() < until) { /* busy, as a thread behind with its requests */ }
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  })();
  return {
    async stop() {
      going = false;
      await done;
    },
  };
}

async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > end) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("LoopLag", () => {
  test("is behind while the thread stays busy, and not once it is free again", async () => {
    const lag = new LoopLag(200).start();
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(lag.behind).toBe(false);
      const busy = keepBusy(400);
      await until(() => lag.behind, 10_000);
      expect(lag.ms).toBeGreaterThan(200);
      await busy.stop();
      await until(() => !lag.behind, 5_000);
      expect(lag.ms).toBeLessThan(100);
    } finally {
      lag.stop();
    }
  });

  test("one pause does not make it behind", async () => {
    const lag = new LoopLag(200).start();
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      const until = performance.now() + 300;
      while (performance.now() < until) { /* one long task, as a checkpoint */ }
      for (let i = 0; i < 10; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        expect(lag.behind).toBe(false);
      }
    } finally {
      lag.stop();
    }
  });
});

describe("a site behind with its requests", () => {
  let r: ReportSite;
  let agent: FakeAgent;
  const start = Date.now() - 3_600_000;
  const day = dayOf(start);

  beforeAll(async () => {
    r = await startReportSite();
    await addRule(r.url, r.admin, { name: "Lagged", fileName: "lagged" });
    agent = await enrollFakeAgent(r.url, r.enroll);
  });

  afterAll(() => r?.close());

  const batch = () => {
    const doc = writeSessions(newRecordDoc(agent.actor), day, [
      session({ id: `${day}/1`, ruleId: "S01-1", user: "ann", start, end: start + 60_000 }),
    ]);
    return [itemFor(usageDocId(agent.clientId, day), doc)];
  };

  async function storedSessions(): Promise<number> {
    const result = await r.site.db.execute("SELECT count(*) AS n FROM session_rows");
    return Number(result.rows[0].n);
  }

  test("answers a sync 429 site_busy and stores nothing; health and 401 as before", async () => {
    const busy = keepBusy(400);
    try {
      await until(() => r.site.lag.behind, 10_000);
      const response = await fetch(new URL("/v1/sync", r.url), {
        method: "POST",
        headers: { authorization: agent.authorization, "content-type": "application/cbor" },
        body: new Uint8Array([0xa0]),
      });
      expect(response.status).toBe(429);
      const retry = Number(response.headers.get("retry-after"));
      expect(retry).toBeGreaterThanOrEqual(10);
      expect(retry).toBeLessThanOrEqual(30);
      const { error } = await response.json();
      expect(error.code).toBe("site_busy");
      expect(error.message).toMatch(/behind with its requests/);
      const sent = await sendBatch(r.url, agent, batch());
      expect(sent.status).toBe(429);
      expect(await storedSessions()).toBe(0);
      // Someone without a credential learns nothing of the site's load.
      const stranger = await fetch(new URL("/v1/sync", r.url), { method: "POST", body: "x" });
      expect(stranger.status).toBe(401);
      await stranger.body?.cancel();
      const health = await fetch(new URL("/v1/health", r.url));
      expect(health.status).toBe(200);
      await health.body?.cancel();
    } finally {
      await busy.stop();
    }
  });

  test("takes the same sync once it caught up, and stores its session once", async () => {
    await until(() => !r.site.lag.behind, 5_000);
    expect((await sendBatch(r.url, agent, batch())).status).toBe(200);
    expect((await sendBatch(r.url, agent, batch())).status).toBe(200);
    expect(await storedSessions()).toBe(1);
  });
});
