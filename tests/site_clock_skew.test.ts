/**
 * An agent whose clock is hours wrong: the site measures the clock's offset
 * from the clock the agent sends with every sync, shows it in
 * `GET /v1/clients`, and moves the agent's session times onto its own clock
 * (keeping the correction, so the agent's own times are known), so reports
 * put the usage where it really happened. A clock within a minute is left
 * alone; an agent that does not send its clock is taken as it is.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { dayOf, dayStart, usageDocId } from "../model/doc_id.ts";
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
import { addRule, api, sessions } from "./helpers/site_api.ts";
import { enrollClient, LocalClient } from "./helpers/sync_fixture.ts";
import { tempDir } from "./helpers/metered_program.ts";
import type { ClientOutput } from "../site/routes/clients_routes.ts";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

describe("clock skew", () => {
  let r: ReportSite;

  beforeAll(async () => {
    r = await startReportSite();
    await addRule(r.url, r.admin, { name: "Skewed", fileName: "skewed" });
  });

  afterAll(() => r?.close());

  /** One closed session at `start` (the agent's clock), `minutes` long, sent with the agent's clock. */
  async function sendSession(agent: FakeAgent, start: number, minutes: number, now?: number) {
    const day = dayOf(start);
    const doc = writeSessions(newRecordDoc(agent.actor), day, [
      session({
        id: `${day}/1`,
        ruleId: "S01-1",
        user: "ann",
        start,
        end: start + minutes * MINUTE,
      }),
    ]);
    return await sendBatch(r.url, agent, [itemFor(usageDocId(agent.clientId, day), doc)], { now });
  }

  async function clientRow(clientId: string): Promise<ClientOutput> {
    const response = await api(r.url, r.admin, "GET", "/v1/clients");
    const { clients } = await response.json() as { clients: ClientOutput[] };
    return clients.find((c) => c.clientId === clientId)!;
  }

  async function storedSessions(clientId: string) {
    return (await sessions(r.url, r.admin, { client: clientId, from: "2000-01-01T00:00:00Z" }))
      .filter((s) => s.clientId === clientId);
  }

  /** A whole minute an hour or so ago, on the site's clock: where the usage really was. */
  const trueStart = () => Math.floor((Date.now() - HOUR) / MINUTE) * MINUTE;

  test("a clock three hours ahead is measured, shown and corrected", async () => {
    const agent = await enrollFakeAgent(r.url, r.enroll, "ahead");
    const skew = 3 * HOUR;
    const start = trueStart();
    const sent = await sendSession(agent, start + skew, 20, Date.now() + skew);
    expect(sent.status).toBe(200);

    const client = await clientRow(agent.clientId);
    expect(Math.abs(client.clockOffsetSeconds! + 3 * 3600)).toBeLessThan(5);
    expect(client.clockCheckedAt).not.toBeNull();

    const [stored] = await storedSessions(agent.clientId);
    expect(stored.clockCorrectionSeconds).toBe(-3 * 3600);
    expect(stored.start).toBe(new Date(start).toISOString());
    expect(stored.end).toBe(new Date(start + 20 * MINUTE).toISOString());
    expect(stored.durationSeconds).toBe(20 * 60);
    // The client's last usage is on the site's clock too.
    expect(client.lastUsageAt).toBe(new Date(start + 20 * MINUTE).toISOString());
  });

  test("a clock five hours behind is corrected forward, and reports show the true hour", async () => {
    const agent = await enrollFakeAgent(r.url, r.enroll, "behind");
    const skew = -5 * HOUR;
    const start = trueStart();
    expect((await sendSession(agent, start + skew, 10, Date.now() + skew)).status).toBe(200);

    const [stored] = await storedSessions(agent.clientId);
    expect(stored.clockCorrectionSeconds).toBe(5 * 3600);
    expect(stored.start).toBe(new Date(start).toISOString());

    await r.site.summarizer.run();
    const month = new Date(start).toISOString().slice(0, 7);
    const response = await api(
      r.url,
      r.admin,
      "GET",
      `/v1/reports/computers-ran?rule=S01-1&month=${month}`,
    );
    const report = await response.json() as { rows: { clientId: string; lastUse: string }[] };
    const row = report.rows.find((x) => x.clientId === agent.clientId);
    expect(row?.lastUse).toBe(new Date(start + 10 * MINUTE).toISOString());
  });

  test("a clock days ahead is corrected, not refused as the future", async () => {
    const agent = await enrollFakeAgent(r.url, r.enroll, "days-ahead");
    const skew = 3 * 24 * HOUR;
    const start = trueStart();
    expect((await sendSession(agent, start + skew, 5, Date.now() + skew)).status).toBe(200);
    const [stored] = await storedSessions(agent.clientId);
    expect(stored.start).toBe(new Date(start).toISOString());
  });

  test("a clock within a minute is measured but its times are kept", async () => {
    const agent = await enrollFakeAgent(r.url, r.enroll, "close");
    const start = trueStart();
    expect((await sendSession(agent, start, 5, Date.now() - 20_000)).status).toBe(200);
    const client = await clientRow(agent.clientId);
    expect(client.clockOffsetSeconds).toBeGreaterThan(15);
    expect(client.clockOffsetSeconds).toBeLessThan(25);
    const [stored] = await storedSessions(agent.clientId);
    expect(stored.clockCorrectionSeconds).toBe(0);
    expect(stored.start).toBe(new Date(start).toISOString());
  });

  test("an agent that does not send its clock is taken as it is, unmeasured", async () => {
    const agent = await enrollFakeAgent(r.url, r.enroll, "old-agent");
    const start = trueStart();
    expect((await sendSession(agent, start, 5)).status).toBe(200);
    const client = await clientRow(agent.clientId);
    expect(client.clockOffsetSeconds).toBeNull();
    expect(client.clockCheckedAt).toBeNull();
    const [stored] = await storedSessions(agent.clientId);
    expect(stored.clockCorrectionSeconds).toBe(0);
  });

  test("the sync client sends its own clock with every batch", async () => {
    const temp = await tempDir("meter-skew-");
    const skew = 2 * HOUR;
    const local = await LocalClient.open(temp.dir, r.url, await enrollClient(r.url, r.enroll));
    try {
      const [id] = await local.addSessions(1);
      await local.sync({ clock: () => Date.now() + skew });
      const [stored] = await storedSessions(local.clientId);
      expect(stored.id).toBe(id);
      expect(stored.clockCorrectionSeconds).toBe(-2 * 3600);
      expect(Date.parse(stored.start)).toBe(dayStart(local.day) + 1000 - skew);
    } finally {
      local.close();
      await temp.remove();
    }
  });
});
