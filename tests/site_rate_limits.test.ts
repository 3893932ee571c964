/**
 * Per-peer rate limits on a real site over loopback: past
 * `syncRequestsPerMinute` an agent's syncs are answered 429 with
 * `Retry-After` (which the sync client turns into a retryable error with the
 * wait), enrolments past `enrollRequestsPerMinute` from one address too,
 * other peers are not affected, and a bucket refills with time.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { RateLimits } from "../site/http/rate_limits.ts";
import { inventoryDocId } from "../model/doc_id.ts";
import {
  enrollFakeAgent,
  type FakeAgent,
  itemFor,
  newRecordDoc,
  sendBatch,
} from "./helpers/fake_agent.ts";
import { type ReportSite, startReportSite } from "./helpers/report_site.ts";
import { api } from "./helpers/site_api.ts";
import { CBOR_TYPE, encodeSyncBody } from "../sync/sync_batch.ts";

describe("rate limits", () => {
  let r: ReportSite;
  let agents: FakeAgent[];

  beforeAll(async () => {
    r = await startReportSite();
    agents = [await enrollFakeAgent(r.url, r.enroll), await enrollFakeAgent(r.url, r.enroll)];
    const patched = await api(r.url, r.admin, "PATCH", "/v1/settings", {
      syncRequestsPerMinute: 3,
      enrollRequestsPerMinute: 2,
    });
    expect(patched.status).toBe(200);
  });

  afterAll(() => r?.close());

  test("an agent past its syncs a minute gets 429 and Retry-After; another does not", async () => {
    const [first, second] = agents;
    const items = [itemFor(inventoryDocId(first.clientId), newRecordDoc(first.actor))];
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await sendBatch(r.url, first, items)).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const response = await fetch(new URL("/v1/sync", r.url), {
      method: "POST",
      headers: { authorization: first.authorization, "content-type": CBOR_TYPE },
      body: encodeSyncBody({ items }) as Uint8Array<ArrayBuffer>,
    });
    expect(response.status).toBe(429);
    expect(Number(response.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect((await response.json()).error.message).toContain("at most 3 a minute");
    const other = [itemFor(inventoryDocId(second.clientId), newRecordDoc(second.actor))];
    expect((await sendBatch(r.url, second, other)).status).toBe(200);
  });

  test("enrolments past the limit from one address get 429", async () => {
    const tries: string[] = [];
    for (let i = 0; i < 3; i++) {
      tries.push(await enrollFakeAgent(r.url, r.enroll).then(() => "ok", (e) => String(e)));
    }
    expect(tries.slice(0, 2)).toEqual(["ok", "ok"]);
    expect(tries[2]).toContain("429");
  });

  test("a bucket refills with time", () => {
    const limits = new RateLimits();
    const take = (at: number) => {
      try {
        limits.take("peer", 60, "requests", at);
        return "ok";
      } catch (error) {
        return (error as { status: number }).status;
      }
    };
    const t0 = 1_000_000;
    for (let i = 0; i < 60; i++) expect(take(t0)).toBe("ok");
    expect(take(t0)).toBe(429);
    expect(take(t0 + 999)).toBe(429); // one a second comes back
    expect(take(t0 + 1_001)).toBe("ok");
  });
});
