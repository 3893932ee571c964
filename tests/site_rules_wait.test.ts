/**
 * An agent's wait for new rules (`GET /v1/sync/wait`) against a real site
 * process: every sync answer says when to sync next and the rules' version;
 * a wait on that version is held until a rule changes, answered at once when
 * the version is gone, and answered at once with when to ask again once the
 * site holds `maxWaitingAgents`. What a stranger, a person's token and a
 * hostile query can do with it is refused with a clear error.
 *
 * @module
 */
import * as A from "@automerge/automerge";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { decodeSyncBody, encodeSyncBody, syncReplySchema } from "../sync/mod.ts";
import { rulesDocId } from "../model/doc_id.ts";
import { enrollFakeAgent, type FakeAgent, postSyncBytes } from "./helpers/fake_agent.ts";
import { type SiteHandle, startSite } from "./helpers/meter_process.ts";
import { addRule, api, makeToken } from "./helpers/site_api.ts";
import { tempDir } from "./helpers/metered_program.ts";

let temp: Awaited<ReturnType<typeof tempDir>>;
let site: SiteHandle;
let admin: string;
let agent: FakeAgent;

beforeAll(async () => {
  temp = await tempDir();
  site = await startSite(temp.dir);
  admin = await makeToken(site.db, "admin");
  agent = await enrollFakeAgent(site.url, await makeToken(site.db, "enroll"));
});

afterAll(async () => {
  await site?.process.stop();
  await temp?.remove();
});

/** A sync of an empty rules replica, as an agent's first: the site's answer. */
async function syncOnce() {
  const [, msg] = A.generateSyncMessage(A.init(), A.initSyncState());
  const body = encodeSyncBody({ items: [{ doc: rulesDocId("S01"), msg: msg! }] });
  const response = await postSyncBytes(site.url, agent.authorization, body);
  expect(response.status).toBe(200);
  return decodeSyncBody(new Uint8Array(await response.arrayBuffer()), syncReplySchema);
}

function wait(query: string, authorization = agent.authorization): Promise<Response> {
  return fetch(new URL(`/v1/sync/wait?${query}`, site.url), { headers: { authorization } });
}

async function settings(patch: Record<string, unknown>): Promise<void> {
  const response = await api(site.url, admin, "PATCH", "/v1/settings", patch);
  expect(response.status, await response.text()).toBe(200);
}

describe("the answer to a sync", () => {
  test("says when to sync next, within 10 % of agentSyncSeconds, and the rules' version", async () => {
    await settings({ agentSyncSeconds: 100 });
    const answers = await Promise.all([1, 2, 3, 4, 5].map(() => syncOnce()));
    for (const answer of answers) {
      expect(answer.syncAfter).toBeGreaterThanOrEqual(90);
      expect(answer.syncAfter).toBeLessThanOrEqual(110);
      expect(answer.rules).toMatch(/^[0-9a-f]{8}$/);
    }
    await settings({ agentSyncSeconds: 300 });
  });
});

describe("a wait for new rules", () => {
  test("is held until a rule is added, then says the rules changed", async () => {
    const { rules: rulesVersion } = await syncOnce();
    const started = performance.now();
    const waiting = wait(`rules=${rulesVersion}&seconds=30`);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await addRule(site.url, admin, { name: "waited-for", fileName: "waited-for" });
    const response = await waiting;
    expect(response.status).toBe(200);
    const answer = await response.json();
    expect(answer.changed).toBe(true);
    expect(answer.rulesVersion).not.toBe(rulesVersion);
    expect(answer.waitAgainAfter).toBe(0);
    // Held past the rule's addition, answered well before the wait's end.
    expect(performance.now() - started).toBeGreaterThan(1_400);
    expect(performance.now() - started).toBeLessThan(15_000);
    // The next sync gives the new version.
    expect((await syncOnce()).rules).toBe(answer.rulesVersion);
  });

  test("is answered at once when the version asked about is gone", async () => {
    const response = await wait("rules=01234567&seconds=30");
    const answer = await response.json();
    expect(answer).toEqual({ changed: true, rulesVersion: expect.any(String), waitAgainAfter: 0 });
  });

  test("with nothing new, ends after the seconds asked and says to ask again at once", async () => {
    const { rules: rulesVersion } = await syncOnce();
    const started = performance.now();
    const answer = await (await wait(`rules=${rulesVersion}&seconds=1`)).json();
    expect(answer).toEqual({ changed: false, rulesVersion, waitAgainAfter: 0 });
    expect(performance.now() - started).toBeGreaterThanOrEqual(900);
  });

  test("is answered at once while the site holds maxWaitingAgents, with when to ask again", async () => {
    const { rules: rulesVersion } = await syncOnce();
    await settings({ maxWaitingAgents: 1 });
    try {
      const held = wait(`rules=${rulesVersion}&seconds=5`);
      await waitForGauge("meter_rules_waiting", 1);
      const started = performance.now();
      const answer = await (await wait(`rules=${rulesVersion}&seconds=30`)).json();
      expect(performance.now() - started).toBeLessThan(2_000);
      expect(answer.changed).toBe(false);
      expect(answer.waitAgainAfter).toBeGreaterThanOrEqual(30);
      expect(answer.waitAgainAfter).toBeLessThanOrEqual(55);
      expect((await (await held).json()).changed).toBe(false);
    } finally {
      await settings({ maxWaitingAgents: 2_000 });
    }
  });

  test("does not hold the site's stop: held waits are let go", async () => {
    const own = await tempDir();
    const other = await startSite(own.dir);
    try {
      const client = await enrollFakeAgent(other.url, await makeToken(other.db, "enroll"));
      const url = new URL("/v1/sync/wait?rules=00000000&seconds=1", other.url);
      const { rulesVersion } = await (await fetch(url, {
        headers: { authorization: client.authorization },
      })).json();
      const held = fetch(new URL(`/v1/sync/wait?rules=${rulesVersion}&seconds=60`, other.url), {
        headers: { authorization: client.authorization },
      }).then((r) => r.json(), () => "connection closed");
      await new Promise((resolve) => setTimeout(resolve, 500));
      const started = performance.now();
      await other.process.stop();
      expect(performance.now() - started).toBeLessThan(20_000);
      const answer = await held;
      expect(answer === "connection closed" || answer.changed === false).toBe(true);
    } finally {
      await own.remove();
    }
  });
});

describe("what a wait refuses", () => {
  test("a stranger, a person's token and a wrong secret: 401", async () => {
    const viewer = await makeToken(site.db, "viewer");
    for (
      const authorization of ["", `Bearer ${viewer}`, `Bearer ${admin}`, `${agent.authorization}x`]
    ) {
      const response = await wait("rules=01234567", authorization);
      expect(response.status, authorization).toBe(401);
      expect((await response.json()).error).toBeTruthy();
    }
  });

  test("a registered child site's credential: 401, for waits are an agent's", async () => {
    const registered = await fetch(new URL("/v1/sites/register", site.url), {
      method: "POST",
      headers: {
        authorization: `Bearer ${await makeToken(site.db, "site")}`,
        "content-type": "application/json",
      },
      body: JSON.stringify({ code: "S02", actor: crypto.randomUUID().replaceAll("-", "") }),
    });
    expect(registered.status).toBe(201);
    const { secret } = await registered.json();
    const response = await wait("rules=01234567&seconds=0", `Bearer S02.${secret}`);
    expect(response.status).toBe(401);
    expect((await response.json()).error.code).toBe("unauthenticated");
  });

  test("a hostile or malformed query: 400 naming the field", async () => {
    const cases: [string, RegExp][] = [
      ["", /rules/],
      ["rules=", /rules/],
      ["rules=0123ABCD", /rules/],
      ["rules=012345678", /rules/],
      ["rules=0123456789abcdef", /rules/],
      ["rules=%27%3B%20DROP%20TABLE%20docs%3B--", /rules/],
      ["rules=../../etc/passwd", /rules/],
      ["rules=01234567&seconds=61", /seconds/],
      ["rules=01234567&seconds=-1", /seconds/],
      ["rules=01234567&seconds=1e9", /seconds/],
      ["rules=01234567&seconds=abc", /seconds/],
      ["rules=01234567&seconds=1.5", /seconds/],
      ["rules=01234567&wait=5", /wait/],
    ];
    for (const [query, field] of cases) {
      const response = await wait(query);
      expect(response.status, query).toBe(400);
      expect(JSON.stringify(await response.json()), query).toMatch(field);
    }
    // Nothing refused changed the rules.
    const rules = await (await api(site.url, admin, "GET", "/v1/rules")).json();
    expect(rules.rules.map((r: { name: string }) => r.name)).toEqual(["waited-for"]);
  });

  test("more waits a minute than syncRequestsPerMinute: 429 with Retry-After", async () => {
    await settings({ syncRequestsPerMinute: 3 });
    try {
      const statuses: number[] = [];
      let retryAfter: string | null = null;
      for (let i = 0; i < 5; i++) {
        const response = await wait("rules=01234567&seconds=0");
        statuses.push(response.status);
        if (response.status === 429) retryAfter = response.headers.get("retry-after");
        await response.body?.cancel();
      }
      expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
      expect(statuses.at(-1)).toBe(429);
      expect(Number(retryAfter)).toBeGreaterThan(0);
    } finally {
      await settings({ syncRequestsPerMinute: 600 });
    }
  });
});

/** Waits until the site's `/metrics` shows `name` at `value`. */
async function waitForGauge(name: string, value: number): Promise<void> {
  const until = performance.now() + 10_000;
  while (performance.now() < until) {
    const text = await (await fetch(new URL("/metrics", site.url))).text();
    if (Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1]) === value) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${name} did not reach ${value}`);
}
