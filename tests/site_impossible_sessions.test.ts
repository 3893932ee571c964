/**
 * Session values that cannot be true are refused, not stored as they came:
 * a session starting days after the site's clock refuses its batch with 400
 * (nothing stored), while one a few hours ahead (an agent's clock a little
 * wrong) is taken; so are a rule of a site the agent does not follow, a rule
 * id or user name that no agent writes, and fields or flags the format does
 * not have. A rule of its own site that the site no longer has (deleted
 * since) is kept, with no name.
 */
import * as A from "@automerge/automerge";
import { encode } from "cbor-x";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { DAY_MS, dayOf, usageDocId } from "../model/doc_id.ts";
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

  /** A batch of one new usage document of `sender` holding exactly these raw records. */
  const rawBatch = (sender: FakeAgent, records: Record<string, unknown[]>) => {
    const day = dayOf(Date.now());
    const doc = A.change(newRecordDoc(sender.actor), (d) => {
      for (const [key, tuple] of Object.entries(records)) d[key] = encode(tuple);
    });
    return [itemFor(usageDocId(sender.clientId, day), doc)];
  };
  const program = (ruleId: string, user = "ann") => [ruleId, user, "/usr/bin/x", "x", "1.0"];
  const oneSession = (extra: unknown[] = [], flags = 0) => [0, 42, 1000, 60_000, flags, ...extra];

  test.each([
    ["a rule of a site the agent does not follow", program("XYZ-1"), oneSession(), "site XYZ"],
    ["a rule id no site makes", program("not a rule"), oneSession(), "a rule id looks like"],
    ["an empty user", program("S01-1", ""), oneSession(), "the user is empty"],
    ["a user with a newline", program("S01-1", "ann\nroot"), oneSession(), "control characters"],
    ["a field the session format lacks", program("S01-1"), oneSession(["extra"]), "session 1"],
    ["a flag the format lacks", program("S01-1"), oneSession([], 8), "session 1"],
  ])("%s refuses the batch and nothing is stored", async (_, p0, s1, says) => {
    const before = await sessions(r.url, r.admin, {});
    const sender = await enrollFakeAgent(r.url, r.enroll);
    const sent = await sendBatch(r.url, sender, rawBatch(sender, { p0, "1": s1 }));
    expect(sent.status).toBe(400);
    expect(sent.error?.code).toBe("invalid_record");
    expect(sent.error?.message).toContain(says);
    expect(await sessions(r.url, r.admin, {})).toEqual(before);
  });

  test("a rule of its own site that the site does not have (deleted since) is kept", async () => {
    const other = await enrollFakeAgent(r.url, r.enroll);
    const records = { p0: program("S01-999"), "1": oneSession() };
    const sent = await sendBatch(r.url, other, rawBatch(other, records));
    expect(sent.status).toBe(200);
    const stored = (await sessions(r.url, r.admin, {})).filter((s) =>
      s.clientId === other.clientId
    );
    expect(stored.map((s) => [s.ruleId, s.ruleName])).toEqual([["S01-999", null]]);
  });
});
