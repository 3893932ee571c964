/**
 * Session values that cannot be true are refused, not stored as they came:
 * a session starting days after the site's clock refuses its batch with 400
 * (nothing stored), while one a few hours ahead (an agent's clock a little
 * wrong) is taken.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { DAY_MS, dayOf, usageDocId } from "../sync/doc_id.ts";
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
import { sessions } from "./helpers/site_api.ts";

describe("impossible session values", () => {
  let r: ReportSite;
  let agent: FakeAgent;

  beforeAll(async () => {
    r = await startReportSite();
    agent = await enrollFakeAgent(r.url, r.enroll);
  });

  afterAll(() => r?.close());

  const batchStartingAt = (start: number) => {
    const day = dayOf(start);
    const doc = writeSessions(newRecordDoc(agent.actor), day, [
      session({ id: `${day}/1`, ruleId: "S01-1", user: "ann", start, end: start + 60_000 }),
    ]);
    return [itemFor(usageDocId(agent.clientId, day), doc)];
  };

  test("a session days in the future refuses the batch and nothing is stored", async () => {
    const sent = await sendBatch(r.url, agent, batchStartingAt(Date.now() + 3 * DAY_MS));
    expect(sent.status).toBe(400);
    expect(sent.error?.code).toBe("invalid_record");
    expect(sent.error?.message).toContain("more than a day after this site's clock");
    expect(await sessions(r.url, r.admin, {})).toEqual([]);
  });

  test("a session a few hours ahead (a clock a little wrong) is taken", async () => {
    const sent = await sendBatch(r.url, agent, batchStartingAt(Date.now() + 3 * 3_600_000));
    expect(sent.status).toBe(200);
    const stored = await sessions(r.url, r.admin, {
      from: new Date(Date.now()).toISOString(),
      to: new Date(Date.now() + DAY_MS).toISOString(),
    });
    expect(stored).toHaveLength(1);
  });
});
