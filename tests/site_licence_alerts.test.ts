/**
 * Licence alerts against a real HTTP receiver started by the test: a
 * position that turns into a shortfall records one event and sends one
 * signed notification, retried with backoff while the receiver fails, never
 * followed through a redirect, given up after the last attempt; the same
 * state again sends nothing, and a worse state sends again. The webhook's
 * secret is never shown by the settings API, and a URL that is not http(s)
 * is refused naming the field.
 */
import { createHmac } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { DAY_MS, dayOf, dayStart } from "../model/doc_id.ts";
import type { Licence } from "../model/licence.ts";
import { WebhookSender } from "../site/licences/webhook_sender.ts";
import { MIN, sendClient, type TruthRun } from "./helpers/licence_truth.ts";
import { type ReportSite, startReportSite } from "./helpers/report_site.ts";
import { addRule, api } from "./helpers/site_api.ts";

const SECRET = "a-shared-secret-of-32-characters";
const TODAY = dayStart(dayOf(Date.now()));

interface Received {
  body: string;
  timestamp: string | null;
  signature: string | null;
}

/** A receiver that answers with the next of `answers` (then 204), and what it got. */
function receiver() {
  const received: Received[] = [];
  const answers: (number | "hang")[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    received.push({
      body: await request.text(),
      timestamp: request.headers.get("x-meter-timestamp"),
      signature: request.headers.get("x-meter-signature"),
    });
    const answer = answers.shift() ?? 204;
    if (answer === "hang") await new Promise((resolve) => setTimeout(resolve, 2_000));
    if (answer === 302) {
      // Back to this receiver: a redirect followed would show as one more request.
      return new Response(null, { status: 302, headers: { location: request.url } });
    }
    return new Response(null, { status: answer === "hang" ? 204 : answer });
  });
  return { received, answers, server, url: `http://127.0.0.1:${server.addr.port}/hook` };
}

const verifies = (r: Received, secret: string) =>
  r.signature ===
    `sha256=${createHmac("sha256", secret).update(`${r.timestamp}.${r.body}`).digest("hex")}`;

describe("licence alerts and their webhook", () => {
  let r: ReportSite;
  let hook: ReturnType<typeof receiver>;
  let rule: string;
  let sender: WebhookSender;
  const now = { at: Date.now() };

  beforeAll(async () => {
    r = await startReportSite();
    hook = receiver();
    rule = (await addRule(r.url, r.admin, { name: "cad", fileName: "cad" })).id;
    // Three users at once, two days ago.
    const runs: TruthRun[] = ["ann", "bob", "cat"].map((user, i) => ({
      client: `pc-${i}`,
      program: "cad",
      user,
      start: TODAY - 2 * DAY_MS + 10 * 3_600_000,
      end: TODAY - 2 * DAY_MS + 10 * 3_600_000 + 30 * MIN,
    }));
    for (let i = 0; i < 3; i++) {
      await sendClient(r.url, r.enroll, { name: `pc-${i}`, site: "S01", installs: [] }, runs, {
        cad: rule,
      });
    }
    await r.site.summarizer.run();
    const patched = await api(r.url, r.admin, "PATCH", "/v1/settings", {
      alertWebhookUrl: hook.url,
      alertWebhookSecret: SECRET,
    });
    expect(patched.status).toBe(200);
    sender = new WebhookSender({
      db: r.site.db,
      code: r.site.code,
      write: (statements) => r.site.db.batch(statements, "write"),
      secret: () => r.site.settings.alertWebhookSecret,
      timeoutMs: 500,
      maxAttempts: 4,
    });
  });

  afterAll(async () => {
    await hook?.server.shutdown();
    await r?.close();
  });

  const licence = async (fields: Record<string, unknown>): Promise<Licence> => {
    const response = await api(r.url, r.admin, "POST", "/v1/licences", {
      name: "CAD floating",
      ruleIds: [rule],
      model: "concurrent",
      ...fields,
    });
    expect(response.status).toBe(201);
    return await response.json();
  };

  const events = async () =>
    (await (await api(r.url, r.viewer, "GET", "/v1/licences/events")).json()).events;

  /** Runs the sender at `now`, then as many times as it takes, each past the next retry. */
  const deliverUntilDone = async (rounds: number) => {
    for (let i = 0; i < rounds; i++) {
      await sender.deliverDue(now.at);
      now.at += 3_600_000;
    }
  };

  test("a shortfall records one event and sends one signed notification, through two failures", async () => {
    const floating = await licence({ quantity: 2 });
    hook.answers.push(500, 503);
    const refreshed = await r.site.licences.refresh(now.at);
    expect(refreshed.events).toBe(1);
    const [event] = await events();
    expect(event).toMatchObject({
      licenceId: floating.id,
      kind: "shortfall",
      owned: 2,
      consumed: 3,
    });
    expect(event.message).toContain("short of 1");

    await sender.deliverDue(now.at);
    expect(hook.received).toHaveLength(1);
    // Not yet due again: nothing is sent.
    await sender.deliverDue(now.at + 1_000);
    expect(hook.received).toHaveLength(1);
    await deliverUntilDone(3);
    expect(hook.received).toHaveLength(3);
    const delivered = hook.received[2];
    expect(verifies(delivered, SECRET)).toBe(true);
    expect(verifies(delivered, "another-secret-of-some-length")).toBe(false);
    const body = JSON.parse(delivered.body);
    expect(body).toMatchObject({
      site: "S01",
      event: { id: event.id, kind: "shortfall", licenceId: floating.id, owned: 2, consumed: 3 },
    });
    // The same state at the next refresh: nothing more.
    expect((await r.site.licences.refresh(now.at)).events).toBe(0);
    await deliverUntilDone(2);
    expect(hook.received).toHaveLength(3);
    await api(r.url, r.admin, "DELETE", `/v1/licences/${floating.id}`);
  });

  test("near, then short: two notifications; recovered is recorded and not sent", async () => {
    const before = hook.received.length;
    const floating = await licence({ quantity: 4, alertAtPercent: 75 });
    expect((await r.site.licences.refresh(now.at)).events).toBe(1);
    expect((await events())[0]).toMatchObject({ kind: "near", percent: 75 });
    await api(r.url, r.admin, "PATCH", `/v1/licences/${floating.id}`, { quantity: 1 });
    expect((await r.site.licences.refresh(now.at)).events).toBe(1);
    expect((await events())[0]).toMatchObject({ kind: "shortfall", consumed: 3, owned: 1 });
    await api(r.url, r.admin, "PATCH", `/v1/licences/${floating.id}`, { quantity: 10 });
    expect((await r.site.licences.refresh(now.at)).events).toBe(1);
    expect((await events())[0]).toMatchObject({ kind: "recovered" });
    await deliverUntilDone(1);
    const kinds = hook.received.slice(before).map((h) => JSON.parse(h.body).event.kind);
    expect(kinds).toEqual(["near", "shortfall"]);
    await api(r.url, r.admin, "DELETE", `/v1/licences/${floating.id}`);
  });

  test("a redirect, or no answer in time, is a failure; the last attempt gives up", async () => {
    const before = hook.received.length;
    await licence({ quantity: 0, name: "nothing owned" });
    hook.answers.push(302, "hang", 500, 500, 500);
    expect((await r.site.licences.refresh(now.at)).events).toBe(1);
    await deliverUntilDone(6);
    // Four attempts (maxAttempts), none followed to the redirect's target, then given up.
    expect(hook.received.length - before).toBe(4);
    const rows = await r.site.db.execute(
      "SELECT attempts, failed_at, last_error FROM webhook_outbox ORDER BY event_id DESC LIMIT 1",
    );
    expect(rows.rows[0].attempts).toBe(4);
    expect(rows.rows[0].failed_at).not.toBeNull();
    expect(rows.rows[0].last_error).toMatch(/500/);
  });

  test("the settings API never shows the secret; '(set)' keeps it; other schemes are refused", async () => {
    const shown = await (await api(r.url, r.admin, "GET", "/v1/settings")).json();
    expect(shown.alertWebhookSecret).toBe("(set)");
    expect(JSON.stringify(shown)).not.toContain(SECRET);
    const kept = await api(r.url, r.admin, "PATCH", "/v1/settings", {
      alertWebhookSecret: "(set)",
      licenceRefreshSeconds: 60,
    });
    expect(kept.status).toBe(200);
    expect(JSON.stringify(await kept.json())).not.toContain(SECRET);
    expect(r.site.settings.alertWebhookSecret).toBe(SECRET);
    for (const url of ["file:///etc/passwd", "javascript:alert(1)", "ftp://x/y", "http://a b"]) {
      const refused = await api(r.url, r.admin, "PATCH", "/v1/settings", { alertWebhookUrl: url });
      expect(refused.status, url).toBe(400);
      expect((await refused.json()).error.message).toContain("alertWebhookUrl");
    }
    const short = await api(r.url, r.admin, "PATCH", "/v1/settings", { alertWebhookSecret: "x" });
    expect(short.status).toBe(400);
    expect((await short.json()).error.message).toContain("alertWebhookSecret");
    expect(r.site.settings.alertWebhookUrl).toBe(hook.url);
    // A viewer cannot read settings at all.
    expect((await api(r.url, r.viewer, "GET", "/v1/settings")).status).toBe(403);
  });
});
