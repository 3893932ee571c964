/**
 * A concurrent licence with real processes: a site and a root agent (kernel
 * process events) as separate processes, a licence of 2 seats for a copy of
 * `/bin/sleep` under a metered name, and three real users (`useradd`) running
 * it at once through `setpriv`. The position shows 3 consumed, a shortfall of
 * 1 and its cost, and a real HTTP receiver started by the test gets one
 * notification, signed with the site's secret, from the site's own sender;
 * refreshing again sends no second one.
 */
import { createHmac } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { copySleep, runProgram, tempDir, uniqueName } from "./helpers/metered_program.ts";
import { type MeteredSite, startSiteWithAgent } from "./helpers/meter_process.ts";
import { addRule, api, sessions } from "./helpers/site_api.ts";
import { addUser, removeUser, type SystemUser } from "./helpers/system_users.ts";
import { sleep, waitFor } from "./helpers/wait_for.ts";

const SECRET = "licence-alerts-secret-0123456789";

describe("a concurrent licence of 2 seats, three real users at once", () => {
  let m: MeteredSite;
  let users: SystemUser[] = [];
  let ruleId: string;
  let licenceId: string;
  const received: { body: string; timestamp: string | null; signature: string | null }[] = [];
  let receiver: Deno.HttpServer<Deno.NetAddr>;

  beforeAll(async () => {
    receiver = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
      received.push({
        body: await request.text(),
        timestamp: request.headers.get("x-meter-timestamp"),
        signature: request.headers.get("x-meter-signature"),
      });
      return new Response(null, { status: 204 });
    });
    const suffix = crypto.randomUUID().slice(0, 6);
    users = await Promise.all([1, 2, 3].map((i) => addUser(`mlu${i}${suffix}`)));
    m = await startSiteWithAgent();
    const patched = await api(m.site.url, m.admin, "PATCH", "/v1/settings", {
      alertWebhookUrl: `http://127.0.0.1:${receiver.addr.port}/meter`,
      alertWebhookSecret: SECRET,
    });
    expect(patched.status).toBe(200);
    const dir = await tempDir("meter-licence-users-");
    await Deno.chmod(dir.dir, 0o755);
    const name = uniqueName("mtest-seat");
    const program = await copySleep(dir.dir, name);
    ruleId = (await addRule(m.site.url, m.admin, { name: "Seats", fileName: name })).id;
    const made = await api(m.site.url, m.admin, "POST", "/v1/licences", {
      name: "Seats, floating",
      ruleIds: [ruleId],
      model: "concurrent",
      quantity: 2,
      unitCost: 1200,
      currency: "EUR",
      thresholdMinutes: 0, // three-second runs count as use
    });
    expect(made.status).toBe(201);
    licenceId = (await made.json()).id;
    await waitFor(
      "the rule at the agent",
      () => m.agent.logged("rules loaded").some((e) => e.rules === 1),
    );
    await Promise.all(users.map((user) => runProgram(program, 3, { user }).ended));
    await waitFor("three ended runs at the site", async () => {
      const rows = await sessions(m.site.url, m.admin, { rule: ruleId });
      return rows.length === 3 && rows.every((r) => r.end) ? rows : undefined;
    });
    await dir.remove();
  });

  afterAll(async () => {
    await m?.stop();
    await receiver?.shutdown();
    for (const user of users) await removeUser(user.name);
  });

  const post = async (path: string) => {
    const response = await api(m.site.url, m.admin, "POST", path);
    expect(response.status, path).toBe(200);
    return await response.json();
  };

  test("the position is short of one seat, and the webhook hears it once", async () => {
    await post("/v1/summaries/run");
    const refreshed = await post("/v1/licences/refresh");
    expect(refreshed.events).toBe(1);
    const response = await api(
      m.site.url,
      m.admin,
      "GET",
      `/v1/reports/licence-position?licence=${licenceId}`,
    );
    const [position] = (await response.json()).rows;
    expect(position).toMatchObject({
      model: "concurrent",
      owned: 2,
      consumed: 3,
      used: 3,
      shortfall: 1,
      shortfallCost: 1200,
      currency: "EUR",
    });

    const notification = await waitFor("the notification", () => received[0], {
      timeoutMs: 20_000,
    });
    expect(notification.signature).toBe(
      `sha256=${
        createHmac("sha256", SECRET).update(`${notification.timestamp}.${notification.body}`)
          .digest("hex")
      }`,
    );
    expect(JSON.parse(notification.body).event).toMatchObject({
      kind: "shortfall",
      licenceId,
      owned: 2,
      consumed: 3,
    });

    expect((await post("/v1/licences/refresh")).events).toBe(0);
    await sleep(7_000); // past the sender's next round
    expect(received).toHaveLength(1);
  });
});
