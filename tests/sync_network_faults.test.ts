/**
 * The sync protocol under network faults, against a real site process: HTTP
 * 500s, timeouts, connections dropped after the site processed the request,
 * garbled replies and requests that arrive late. Each failed sync is a
 * retryable `SyncError`, the client stores nothing it was not answered, and
 * once the network behaves every session is at the site exactly once, with
 * no row rewritten by a re-sent change. Also the exponential backoff the
 * agent uses between such failures.
 *
 * Faults are msw handlers, applied through the client's `fetch` option
 * (msw 3's `setupServer` does not see Deno's `fetch`; the first test shows
 * it). Every request that is not failed reaches the real site.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import * as A from "@automerge/automerge";
import { bypass, http, HttpResponse, passthrough, type RequestHandler } from "msw";
import { setupServer } from "msw/node";
import { Backoff } from "../lib/backoff.ts";
import { decodeSentBatch } from "./helpers/sent_batch.ts";
import { SyncError } from "../sync/sync_client.ts";
import { type SiteHandle, startSite } from "./helpers/meter_process.ts";
import { tempDir } from "./helpers/metered_program.ts";
import { aborted, mswFetch } from "./helpers/msw_fetch.ts";
import { addRule, makeToken, sessions } from "./helpers/site_api.ts";
import { enrollClient, LocalClient, SiteDb, textSorted } from "./helpers/sync_fixture.ts";
import { sleep } from "./helpers/wait_for.ts";

type Fault =
  /** HTTP 500 without reaching the site. */
  | "500"
  /** HTTP 503 with `retry-after: 1`, without reaching the site. */
  | "503"
  /** A network error before the request reaches the site. */
  | "refused"
  /** No answer at all, until the client gives up. */
  | "timeout"
  /** The site processes the request, then the connection drops. */
  | "dropAfter"
  /** The site processes the request, then no answer until the client gives up. */
  | "hangAfter"
  /** The site processes the request; the reply arrives cut short. */
  | "garbled"
  /** The client gives up; then the request reaches the site after all. */
  | "late";

const FAULTS: readonly Fault[] = [
  "500",
  "503",
  "refused",
  "timeout",
  "dropAfter",
  "hangAfter",
  "garbled",
  "late",
];

interface Seen {
  fault: Fault | "ok";
  /** Changes the request carried, per document. */
  changes: Record<string, number>;
}

/**
 * A fault plan: each request takes the next fault from `queue`, or goes to
 * the site untouched when the queue is empty.
 */
class FaultPlan {
  readonly queue: Fault[] = [];
  readonly seen: Seen[] = [];
  /** Late requests still on their way to the site. */
  readonly late: Promise<number>[] = [];

  handlers(syncUrl: string): RequestHandler[] {
    return [
      http.post(syncUrl, async ({ request }) => {
        const body = new Uint8Array(await request.clone().arrayBuffer());
        const { items } = decodeSentBatch(body, request.headers.get("content-encoding"));
        const fault = this.queue.shift() ?? "ok";
        this.seen.push({
          fault,
          changes: Object.fromEntries(
            items.map((i) => [i.doc, A.decodeSyncMessage(i.msg).changes.length]),
          ),
        });
        const forward = async (signal?: AbortSignal) => {
          const response = await fetch(bypass(request, signal ? { signal } : undefined));
          return new Uint8Array(await response.arrayBuffer());
        };
        switch (fault) {
          case "ok":
            return passthrough();
          case "500":
            return HttpResponse.json({ error: { code: "internal", message: "injected" } }, {
              status: 500,
            });
          case "503":
            return new HttpResponse(null, { status: 503, headers: { "retry-after": "1" } });
          case "refused":
            return HttpResponse.error();
          case "timeout":
            await aborted(request.signal);
            return HttpResponse.error();
          case "dropAfter":
            await forward();
            return HttpResponse.error();
          case "hangAfter":
            await forward();
            await aborted(request.signal);
            return HttpResponse.error();
          case "garbled": {
            const reply = await forward();
            return new HttpResponse(reply.slice(0, Math.max(1, reply.length >> 1)), {
              status: 200,
              headers: { "content-type": "application/cbor" },
            });
          }
          case "late":
            await aborted(request.signal);
            this.late.push(
              fetch(new URL(request.url), {
                method: "POST",
                headers: request.headers,
                body,
              }).then(async (r) => {
                await r.arrayBuffer();
                return r.status;
              }),
            );
            return HttpResponse.error();
        }
      }),
    ];
  }
}

/** A seeded pseudo-random generator (mulberry32), so a failure can be rerun. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function syncError(promise: Promise<unknown>): Promise<SyncError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof SyncError) return error;
    throw error;
  }
  throw new Error("the sync succeeded, but a failure was injected");
}

describe("sync under network faults", () => {
  let temp: Awaited<ReturnType<typeof tempDir>>;
  let site: SiteHandle;
  let siteDb: SiteDb;
  let admin: string;
  let enroll: string;
  const clients: LocalClient[] = [];

  /** A new enrolled client whose requests go through a fault plan. */
  async function faultyClient(timeoutMs = 2_000) {
    const client = await LocalClient.open(temp.dir, site.url, await enrollClient(site.url, enroll));
    clients.push(client);
    const plan = new FaultPlan();
    const handlers = plan.handlers(new URL("/v1/sync", site.url).href);
    const faulty = mswFetch(() => handlers);
    const sync = () => client.sync({ fetch: faulty.fetch, timeoutMs });
    return { client, plan, faulty, sync };
  }

  async function siteIds(client: LocalClient): Promise<string[]> {
    return (await sessions(site.url, admin, { client: client.clientId })).map((s) => s.id).sort();
  }

  /** Every session the client wrote is at the site once, as the client wrote it. */
  async function expectExactlyOnce(client: LocalClient): Promise<void> {
    const rows = await siteDb.rows(client.clientId);
    const ids = rows.map((r) => r.session_id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(textSorted(client.written));
    for (const row of rows) {
      const seq = Number(row.session_id.split("/")[1]);
      expect(row.pid).toBe(10_000 + seq);
    }
    expect(await siteIds(client)).toEqual(textSorted(client.written));
    expect(await siteDb.heads(client.usageDocId)).toEqual(await client.heads());
  }

  beforeAll(async () => {
    temp = await tempDir("meter-sync-faults-");
    site = await startSite(temp.dir);
    siteDb = new SiteDb(site.db);
    admin = await makeToken(site.db, "admin");
    enroll = await makeToken(site.db, "enroll");
    await addRule(site.url, admin, { name: "A rule", fileName: "mtest-faults" });
  });

  afterAll(async () => {
    for (const client of clients) client.close();
    siteDb?.close();
    await site?.process.stop();
    await temp?.remove();
  });

  test("msw's setupServer does not intercept Deno's fetch, hence the fetch option", async () => {
    let intercepted = 0;
    const server = setupServer(http.all("*", () => {
      intercepted++;
      return HttpResponse.error();
    }));
    server.listen({ onUnhandledFrame: "bypass" });
    try {
      const response = await fetch(new URL("/openapi.json", site.url));
      expect(response.status).toBe(200);
      await response.body?.cancel();
    } finally {
      server.close();
    }
    expect(intercepted).toBe(0);
  });

  test("(a) HTTP 500 for the first 3 requests: retryable errors, nothing stored, then all once", async () => {
    const { client, plan, faulty, sync } = await faultyClient();
    await client.addSessions(10);
    plan.queue.push("500", "500", "500");
    for (let i = 0; i < 3; i++) {
      const error = await syncError(sync());
      expect(error.status).toBe(500);
      expect(error.retryable).toBe(true);
      expect(error.message).toContain("injected");
    }
    // Nothing reached the site, and the client stored no sync state.
    expect(await siteIds(client)).toEqual([]);
    expect(await siteDb.docIds(`usage/${client.clientId}/`)).toEqual([]);
    expect(await client.syncStateRows()).toEqual([]);

    const outcome = await sync();
    expect(outcome.rounds).toBe(1);
    expect(faulty.calls).toBe(4);
    expect(plan.seen.map((s) => s.fault)).toEqual(["500", "500", "500", "ok"]);
    await expectExactlyOnce(client);
    expect(client.written).toHaveLength(10);
  });

  test("a 503 with retry-after is retryable and says how long to wait", async () => {
    const { client, plan, sync } = await faultyClient();
    await client.addSessions(2);
    plan.queue.push("503");
    const error = await syncError(sync());
    expect(error).toMatchObject({ status: 503, retryable: true, retryAfterMs: 1000 });
    await sync();
    await expectExactlyOnce(client);
  });

  test("(b) timeouts: the client gives up after timeoutMs, retryably, then delivers once", async () => {
    const timeoutMs = 300;
    const { client, plan, sync } = await faultyClient(timeoutMs);
    await client.addSessions(10);
    plan.queue.push("timeout", "timeout");
    for (let i = 0; i < 2; i++) {
      const started = performance.now();
      const error = await syncError(sync());
      const took = performance.now() - started;
      expect(error.retryable).toBe(true);
      expect(error.status).toBeUndefined();
      // Not before its time limit; the site never answers, so an answer at all means it gave up.
      expect(took).toBeGreaterThanOrEqual(timeoutMs - 20);
    }
    expect(await siteIds(client)).toEqual([]);

    // A timeout after the site has taken the data: the client cannot know.
    await client.addSessions(5);
    plan.queue.push("hangAfter");
    expect((await syncError(sync())).retryable).toBe(true);
    expect(await siteIds(client)).toEqual(textSorted(client.written));
    const rows = await siteDb.rows(client.clientId);

    const outcome = await sync();
    expect(outcome.rounds).toBe(1);
    await expectExactlyOnce(client);
    expect(client.written).toHaveLength(15);
    // The re-sent change rewrote nothing.
    expect(await siteDb.rows(client.clientId)).toEqual(rows);
  });

  test("(c) connection dropped after the site processed it, 3 times: each session once", async () => {
    const { client, plan, sync } = await faultyClient();
    for (let i = 1; i <= 3; i++) {
      await client.addSessions(5);
      plan.queue.push("dropAfter");
      const error = await syncError(sync());
      expect(error.retryable).toBe(true);
      expect(error.message).toContain("cannot reach");
      // The site has it; the client thinks it failed and stored nothing.
      expect(await siteIds(client)).toEqual(textSorted(client.written));
      expect(await siteDb.rows(client.clientId)).toHaveLength(5 * i);
      expect(await client.syncStateRows()).toEqual([]);
    }
    const rows = await siteDb.rows(client.clientId);

    const outcome = await sync();
    expect(outcome.rounds).toBe(1);
    // All three changes travel again, because the client never heard back ...
    expect(plan.seen.at(-1)).toEqual({
      fault: "ok",
      changes: { [client.usageDocId]: 3, [client.rulesDocId]: 0 },
    });
    // ... and change nothing: same rows, same update times.
    expect(await siteDb.rows(client.clientId)).toEqual(rows);
    await expectExactlyOnce(client);
    expect(client.written).toHaveLength(15);

    // The state is saved now: the next sync sends no change.
    await sync();
    expect(plan.seen.at(-1)!.changes).toEqual({ [client.rulesDocId]: 0 });
  });

  test("a garbled reply after the site processed the request is retryable and harmless", async () => {
    const { client, plan, sync } = await faultyClient();
    await client.addSessions(4);
    plan.queue.push("garbled");
    const error = await syncError(sync());
    expect(error.retryable).toBe(true);
    expect(error.status).toBe(200);
    expect(await client.syncStateRows()).toEqual([]);
    await sync();
    await expectExactlyOnce(client);
  });

  test("(d) random faults over 20 syncs while sessions keep coming: each session once", async () => {
    const seed = Number(Deno.env.get("METER_FAULT_SEED") ?? Date.now() % 2 ** 31);
    const random = seeded(seed);
    console.log(`fault mix seed ${seed} (rerun with METER_FAULT_SEED=${seed})`);
    const { client, plan, sync } = await faultyClient(400);
    // Every kind of fault twice, and 4 clean syncs, in a random order.
    const attempts: (Fault | "ok")[] = [...FAULTS, ...FAULTS, "ok", "ok", "ok", "ok"];
    for (let i = attempts.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [attempts[i], attempts[j]] = [attempts[j], attempts[i]];
    }
    const backoff = new Backoff(5, 40, random);
    let failures = 0;
    for (const attempt of attempts) {
      await client.addSessions(Math.floor(random() * 4));
      if (attempt !== "ok") plan.queue.push(attempt);
      try {
        const outcome = await sync();
        expect(attempt).toBe("ok");
        expect(outcome.rounds).toBeLessThanOrEqual(2);
        backoff.succeed();
      } catch (error) {
        expect(error).toBeInstanceOf(SyncError);
        expect((error as SyncError).retryable).toBe(true);
        expect(attempt).not.toBe("ok");
        failures++;
        await sleep(backoff.fail());
      }
    }
    console.log("fault mix", plan.seen.map((s) => s.fault).join(" "));
    expect(failures).toBe(attempts.length - 4);
    expect(plan.queue).toEqual([]);

    // Let the late requests land (after newer ones), then sync cleanly.
    await client.addSessions(3);
    // The site took the stale requests too (their changes it already had).
    expect(await Promise.all(plan.late)).toEqual([200, 200]);
    const last = await sync();
    expect(last.rounds).toBeLessThanOrEqual(2);
    await expectExactlyOnce(client);
    const rows = await siteDb.rows(client.clientId);
    await sync();
    expect(await siteDb.rows(client.clientId)).toEqual(rows);
    expect(plan.seen.at(-1)!.changes).toEqual({ [client.rulesDocId]: 0 });
  });
});

describe("Backoff", () => {
  test("waits double from the base up to the cap, at the bottom of the range", () => {
    const backoff = new Backoff(100, 1_000, () => 0);
    const waits = Array.from({ length: 7 }, () => backoff.fail());
    expect(waits).toEqual([50, 100, 200, 400, 500, 500, 500]);
    expect(backoff.failures).toBe(7);
  });

  test("and at the top of the range", () => {
    const backoff = new Backoff(100, 1_000, () => 0.999_999);
    expect(Array.from({ length: 6 }, () => backoff.fail())).toEqual([
      100,
      200,
      400,
      800,
      1_000,
      1_000,
    ]);
  });

  test("every wait lies within [ceiling/2, ceiling], with jitter", () => {
    const random = seeded(42);
    const firsts = new Set<number>();
    for (let run = 0; run < 50; run++) {
      const backoff = new Backoff(1_000, 300_000, random);
      for (let i = 0; i < 15; i++) {
        const ceiling = Math.min(300_000, 1_000 * 2 ** i);
        const wait = backoff.fail();
        expect(wait).toBeGreaterThanOrEqual(ceiling / 2);
        expect(wait).toBeLessThanOrEqual(ceiling);
        if (i === 0) firsts.add(wait);
      }
    }
    // Clients that failed together do not all come back together.
    expect(firsts.size).toBeGreaterThan(25);
  });

  test("stays at the cap however long the peer is away", () => {
    const backoff = new Backoff(1_000, 300_000);
    let wait = 0;
    for (let i = 0; i < 2_000; i++) wait = backoff.fail();
    expect(wait).toBeGreaterThanOrEqual(150_000);
    expect(wait).toBeLessThanOrEqual(300_000);
  });

  test("a success starts the next failure from the base again", () => {
    const backoff = new Backoff(100, 10_000, () => 0);
    for (let i = 0; i < 5; i++) backoff.fail();
    expect(backoff.fail()).toBe(1_600);
    backoff.succeed();
    expect(backoff.failures).toBe(0);
    expect(backoff.fail()).toBe(50);
    expect(backoff.fail()).toBe(100);
  });

  test("defaults: from 1 s, capped at 5 min", () => {
    const backoff = new Backoff();
    const first = backoff.fail();
    expect(first).toBeGreaterThanOrEqual(500);
    expect(first).toBeLessThanOrEqual(1_000);
    for (let i = 0; i < 30; i++) backoff.fail();
    expect(backoff.fail()).toBeLessThanOrEqual(300_000);
  });
});
