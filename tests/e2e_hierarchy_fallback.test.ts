/**
 * An agent with a fallback site, with real processes: a top site (TOP) and
 * a child (CHD), and an agent of CHD started with `--site CHD --site TOP`.
 * While CHD is stopped, the agent's usage reaches TOP (its credential came
 * up with CHD's documents), where it is kept but not summarised; once CHD is
 * back, the agent delivers it there too, and TOP's reports count every
 * session exactly once.
 */
import { createClient } from "@libsql/client";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { copySleep, runProgram, uniqueName } from "./helpers/metered_program.ts";
import {
  type MeterProcess,
  type SiteHandle,
  startAgent,
  startSite,
} from "./helpers/meter_process.ts";
import { addRule, api, makeToken, sessions } from "./helpers/site_api.ts";
import { agentSyncRounds, parentSyncRounds } from "./helpers/sync_rounds.ts";
import { waitFor } from "./helpers/wait_for.ts";

const MONTH = new Date().toISOString().slice(0, 7);

describe("an agent falls back to its site's parent", () => {
  let dir: string;
  let top: SiteHandle;
  let child: SiteHandle;
  let agent: MeterProcess;
  let topAdmin: string;
  let childAdmin: string;
  let parentToken: string;

  beforeAll(async () => {
    dir = await Deno.makeTempDir({ prefix: "meter-fallback-" });
    top = await startSite(dir, { code: "TOP" });
    topAdmin = await makeToken(top.db, "admin");
    parentToken = await makeToken(top.db, "site");
    child = await startSite(dir, {
      code: "CHD",
      extra: ["--parent", top.url, "--parent-token", parentToken, "--parent-interval", "1"],
    });
    childAdmin = await makeToken(child.db, "admin");
    agent = startAgent(child.url, {
      db: join(dir, "agent.db"),
      enrollToken: await makeToken(child.db, "enroll"),
      interval: 1,
      extra: ["--site", top.url],
    });
  });

  afterAll(async () => {
    await agent?.stop();
    await child?.process.stop();
    await top?.process.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  });

  const runsAtTop = async (ruleId: string) => {
    await api(top.url, topAdmin, "POST", "/v1/summaries/run").then((r) => r.body?.cancel());
    const response = await api(top.url, topAdmin, "GET", `/v1/reports/total-usage?month=${MONTH}`);
    const { rows } = await response.json();
    return rows.find((r: { ruleId: string }) => r.ruleId === ruleId)?.runs ?? 0;
  };

  test("usage left at the parent while the site is away is counted once", async () => {
    const name = uniqueName("mtest-fallback");
    const rule = await addRule(top.url, topAdmin, {
      name: "Fallback",
      fileName: name,
      applyToChildSites: true,
    });
    await waitFor(
      "the agent to load the rule",
      () => agent.logged("rules loaded").some((e) => e.rules === 1),
    );
    const clientId = await waitFor("the agent's credential to reach the top", async () => {
      const db = createClient({ url: `file:${top.db}` });
      try {
        const found = await db.execute("SELECT client_id FROM descendant_credentials");
        return found.rows[0]?.client_id as string | undefined;
      } finally {
        db.close();
      }
    });

    const port = child.port;
    await child.process.stop();
    const program = await copySleep(dir, name);
    await runProgram(program, 1.2).ended;
    await runProgram(program, 1.2).ended;
    const atTop = await waitFor("the sessions at the top, left by the agent", async () => {
      const found = await sessions(top.url, topAdmin, { client: clientId });
      return found.filter((s) => s.end !== null).length === 2 ? found : undefined;
    });
    expect(atTop.every((s) => s.ruleId === rule.id)).toBe(true);
    expect(agent.logged("site unreachable; usage left at a fallback site").length)
      .toBeGreaterThan(0);
    // Kept, not summarised at the top: they belong to CHD's figures.
    expect(await runsAtTop(rule.id)).toBe(0);

    child = await startSite(dir, {
      code: "CHD",
      port,
      extra: ["--parent", top.url, "--parent-interval", "1"],
    });
    await waitFor("the sessions at the child once it is back", async () => {
      const found = await sessions(child.url, childAdmin, { rule: rule.id });
      return found.filter((s) => s.end !== null).length === 2;
    });
    await waitFor("the top to count them once, through the child's summaries", async () => {
      await api(child.url, childAdmin, "POST", "/v1/summaries/run").then((r) => r.body?.cancel());
      return (await runsAtTop(rule.id)) === 2;
    }, { timeoutMs: 60_000 });
    // Still once after the child has summarised again, then synced twice more
    // with the top, and the agent has delivered to both sites again.
    await api(child.url, childAdmin, "POST", "/v1/summaries/run").then((r) => r.body?.cancel());
    await parentSyncRounds(child.url, childAdmin, "after its summaries ran again", { rounds: 2 });
    await agentSyncRounds(agent, "after the top counted the sessions");
    expect(await runsAtTop(rule.id)).toBe(2);
    // Nor do they count in the top's own hours: concurrency comes from CHD's.
    const response = await api(
      top.url,
      topAdmin,
      "GET",
      `/v1/reports/concurrent-usage?month=${MONTH}`,
    );
    const peaks = (await response.json()).rows.find((r: { ruleId: string }) =>
      r.ruleId === rule.id
    );
    expect(peaks).toMatchObject({ peakSessions: 0, sites: 2 });
    expect(peaks.sitesPeakSessionsSum).toBeGreaterThan(0);
  });
});
