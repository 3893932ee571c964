/**
 * Rules flowing down a hierarchy of real site processes on loopback: a top
 * site, a child registered with a `site` token, and a grandchild registered
 * with the child, each syncing with its parent every second, and an agent at
 * the grandchild metering real programs. A rule the top applies to child
 * sites must meter at the grandchild's agent; one it keeps to itself must
 * not; disabling it at the top must stop it; the child may not change the
 * top's rule; and registrations that would let one site speak for another
 * are refused.
 */
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
import { agentSyncRounds } from "./helpers/sync_rounds.ts";
import { waitFor } from "./helpers/wait_for.ts";

const INTERVAL = ["--parent-interval", "1"];

describe("rules down a three-level hierarchy", () => {
  let dir: string;
  let top: SiteHandle;
  let child: SiteHandle;
  let grand: SiteHandle;
  let agent: MeterProcess;
  const admin: Record<string, string> = {};

  beforeAll(async () => {
    dir = await Deno.makeTempDir({ prefix: "meter-hierarchy-" });
    top = await startSite(dir, { code: "TOP" });
    admin.top = await makeToken(top.db, "admin");
    child = await startSite(dir, {
      code: "CHD",
      extra: ["--parent", top.url, "--parent-token", await makeToken(top.db, "site"), ...INTERVAL],
    });
    admin.child = await makeToken(child.db, "admin");
    grand = await startSite(dir, {
      code: "GRD",
      extra: [
        "--parent",
        child.url,
        "--parent-token",
        await makeToken(child.db, "site"),
        ...INTERVAL,
      ],
    });
    admin.grand = await makeToken(grand.db, "admin");
    agent = startAgent(grand.url, {
      db: join(dir, "agent.db"),
      enrollToken: await makeToken(grand.db, "enroll"),
      interval: 1,
    });
  });

  afterAll(async () => {
    await agent?.stop();
    for (const site of [grand, child, top]) await site?.process.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  });

  const sitesOf = async (site: SiteHandle, token: string) => {
    const response = await api(site.url, token, "GET", "/v1/sites");
    return (await response.json()).sites as { code: string; parent: string; relation: string }[];
  };

  test("each site knows its parent and children", async () => {
    const atChild = await waitFor("the grandchild to register", async () => {
      const sites = await sitesOf(child, admin.child);
      return sites.some((s) => s.code === "GRD") ? sites : undefined;
    });
    expect(atChild.map((s) => [s.code, s.parent, s.relation])).toEqual([
      ["CHD", "TOP", "self"],
      ["TOP", null, "parent"],
      ["GRD", "CHD", "child"],
    ]);
    const atTop = await waitFor("the top to learn of the grandchild", async () => {
      const sites = await sitesOf(top, admin.top);
      return sites.some((s) => s.code === "GRD") ? sites : undefined;
    });
    expect(atTop.map((s) => [s.code, s.parent, s.relation])).toEqual([
      ["TOP", null, "self"],
      ["CHD", "TOP", "child"],
      ["GRD", "CHD", "descendant"],
    ]);
  });

  test("a rule applied to child sites meters at the grandchild; a private one does not", async () => {
    const shared = uniqueName("mtest-shared");
    const private_ = uniqueName("mtest-private");
    const sharedRule = await addRule(top.url, admin.top, {
      name: "Shared program",
      fileName: shared,
      applyToChildSites: true,
    });
    await addRule(top.url, admin.top, { name: "Top only", fileName: private_ });
    const madeAt = Date.now();
    await waitFor(
      "the grandchild's agent to load the top's shared rule",
      () => agent.logged("rules loaded").some((e) => e.rules === 1 && e.enabled === 1),
    );
    const delay = Date.now() - madeAt;
    console.log(`a rule made at the top reached the grandchild's agent in ${delay} ms`);

    const sharedPath = await copySleep(dir, shared);
    const privatePath = await copySleep(dir, private_);
    // The private program first: once the shared one, run after it, is at the
    // grandchild, the agent has seen the private one end and has delivered
    // whatever it recorded of it (one more whole sync round makes sure).
    await runProgram(privatePath, 1).ended;
    await runProgram(sharedPath, 1).ended;
    const [session] = await waitFor("the shared program's session at the grandchild", async () => {
      const found = await sessions(grand.url, admin.grand, { rule: sharedRule.id });
      return found.length > 0 ? found : undefined;
    });
    expect(session.ruleId).toBe(sharedRule.id);
    expect(session.exe).toBe(sharedPath);
    await agentSyncRounds(agent, "after the shared program's session arrived");
    const all = await sessions(grand.url, admin.grand);
    expect(all.filter((s) => s.exe === privatePath)).toEqual([]);

    // Each level shows the rule with its origin; the private one stays at the top.
    for (const [site, token] of [[child, admin.child], [grand, admin.grand]] as const) {
      const response = await api(site.url, token, "GET", "/v1/reports/rules");
      const { rows } = await response.json();
      expect(rows.map((r: { id: string; siteCode: string }) => [r.id, r.siteCode])).toEqual([
        [sharedRule.id, "TOP"],
      ]);
    }
  });

  test("a descendant may not change an ancestor's rule; disabling it at the top stops it", async () => {
    const name = uniqueName("mtest-disabled");
    // A program metered by a rule of the grandchild's own, run after the one
    // under the disabled rule: once its session is at the grandchild, the
    // agent has had its chance to meter the other.
    const markerName = uniqueName("mtest-marker");
    const marker = await addRule(grand.url, admin.grand, { name: "Marker", fileName: markerName });
    const rule = await addRule(top.url, admin.top, {
      name: "Soon disabled",
      fileName: name,
      applyToChildSites: true,
    });
    await waitFor("the rule at the grandchild", async () => {
      const response = await api(grand.url, admin.grand, "GET", `/v1/rules/${rule.id}`);
      return response.status === 200;
    });
    const refused = await api(grand.url, admin.grand, "PATCH", `/v1/rules/${rule.id}`, {
      enabled: false,
    });
    expect(refused.status).toBe(403);
    expect((await refused.json()).error.message).toContain("belongs to site TOP");

    const disabled = await api(top.url, admin.top, "PATCH", `/v1/rules/${rule.id}`, {
      enabled: false,
    });
    expect(disabled.status).toBe(200);
    await waitFor("the agent to load the disabled rule", async () => {
      const response = await api(grand.url, admin.grand, "GET", `/v1/rules/${rule.id}`);
      const seen = (await response.json()).enabled === false;
      // The shared rule, the marker and the disabled one; only the disabled one off.
      return seen && agent.logged("rules loaded").some((e) => e.rules === 3 && e.enabled === 2);
    });
    const path = await copySleep(dir, name);
    const markerPath = await copySleep(dir, markerName);
    await runProgram(path, 1).ended;
    await runProgram(markerPath, 1).ended;
    await waitFor("the marker program's session at the grandchild", async () => {
      const found = await sessions(grand.url, admin.grand, { rule: marker.id });
      return found.some((s) => s.exe === markerPath && s.end !== null);
    });
    await agentSyncRounds(agent, "after the marker's session arrived");
    const all = await sessions(grand.url, admin.grand);
    expect(all.filter((s) => s.exe === path)).toEqual([]);
  });

  test("a site code is registered once, and a site credential is not an agent's", async () => {
    const register = (token: string, code: string) =>
      fetch(new URL("/v1/sites/register", top.url), {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ code, actor: "ab".repeat(16) }),
      });
    const siteToken = await makeToken(top.db, "site");
    const again = await register(siteToken, "CHD");
    expect(again.status).toBe(409);
    expect((await again.json()).error.code).toBe("site_code_taken");
    const own = await register(siteToken, "TOP");
    expect(own.status).toBe(409);
    const wrongRole = await register(admin.top, "NEW");
    expect(wrongRole.status).toBe(403);
    const bad = await fetch(new URL("/v1/sites/sync", top.url), {
      method: "POST",
      headers: { authorization: "Bearer CHD.not-the-secret", "content-type": "application/cbor" },
      body: new Uint8Array([0xa0]),
    });
    expect(bad.status).toBe(401);
    await bad.body?.cancel();
  });

  test("an admin removes a child: its credential stops working and its code is free", async () => {
    const grdSecret = await (async () => {
      const { createClient } = await import("@libsql/client");
      const db = createClient({ url: `file:${grand.db}` });
      try {
        return (await db.execute("SELECT value FROM site_meta WHERE key = 'parent_secret'"))
          .rows[0].value as string;
      } finally {
        db.close();
      }
    })();
    const removed = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL("../main.ts", import.meta.url).pathname,
        "sites",
        "remove",
        "GRD",
        "--site",
        child.url,
        "--token",
        admin.child,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    expect(new TextDecoder().decode(removed.stdout)).toContain("removed GRD");
    expect((await sitesOf(child, admin.child)).map((s) => s.code)).not.toContain("GRD");
    const sync = await fetch(new URL("/v1/sites/sync", child.url), {
      method: "POST",
      headers: { authorization: `Bearer GRD.${grdSecret}`, "content-type": "application/cbor" },
      body: new Uint8Array([0xa0]),
    });
    expect(sync.status).toBe(401);
    await sync.body?.cancel();
    const again = await fetch(new URL("/v1/sites/register", child.url), {
      method: "POST",
      headers: {
        authorization: `Bearer ${await makeToken(child.db, "site")}`,
        "content-type": "application/json",
      },
      body: JSON.stringify({ code: "GRD", actor: "cd".repeat(16) }),
    });
    expect(again.status).toBe(201);
    await again.body?.cancel();
    const missing = await api(child.url, admin.child, "DELETE", "/v1/sites/ZZZ");
    expect(missing.status).toBe(404);
  });
});
