/**
 * Inventory reports against ground truth: twenty simulated clients with
 * inventories and usage the test defines sync them to a real site over
 * loopback (real enrolment, real Automerge messages, real materialisation
 * and summaries). `install-base`, `installed-not-run`, `unused`, the
 * `software` report, inventory collections and the automatic rules must
 * equal what the test computes from its own definitions, including a
 * program on exactly the threshold share of computers and the maximum.
 */
import * as A from "@automerge/automerge";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { DAY_MS, dayOf, inventoryDocId, usageDocId } from "../model/doc_id.ts";
import { encodeProduct, type InstalledProduct } from "../model/inventory_record.ts";
import type { Rule } from "../model/rule.ts";
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
import { addRule, api } from "./helpers/site_api.ts";

const CLIENTS = 20;
const MAIN = new URL("../main.ts", import.meta.url).pathname;
const NOW = Date.now();
const WINDOW_DAYS = 14;

function desktop(name: string, path: string): InstalledProduct {
  return {
    name,
    version: "",
    publisher: "",
    source: "desktop",
    installedAt: null,
    files: [file(path)],
  };
}

function dpkg(name: string, version: string, paths: string[]): InstalledProduct {
  return {
    name,
    version,
    publisher: "Someone <someone@example.org>",
    source: "dpkg",
    installedAt: NOW - 30 * DAY_MS,
    files: paths.map(file),
  };
}

const file = (path: string) => ({ path, sha256: null });

/** Client i's inventory: the ground truth every expectation is computed from. */
function inventoryOf(i: number): Map<string, InstalledProduct> {
  const products = new Map<string, InstalledProduct>();
  products.set("dpkg/coreutils:amd64", dpkg("coreutils", "9.1-1", ["/usr/bin/ls", "/usr/bin/cat"]));
  for (let app = 0; app < 6; app++) {
    products.set(`desktop/app${app}.desktop`, desktop(`App ${app}`, `/usr/bin/app${app}`));
  }
  if (i % 2 === 0) {
    products.set("desktop/code.desktop", desktop("Visual Studio Code", "/usr/share/code/code"));
    products.set(
      "dpkg/code:amd64",
      dpkg("code", i < 10 ? "1.95.3-1" : "1.80.0-1", ["/usr/bin/code"]),
    );
  }
  if (i < 2) products.set("desktop/gimp.desktop", desktop("GIMP", "/usr/bin/gimp")); // exactly 10%
  if (i === 0) products.set("desktop/inkscape.desktop", desktop("Inkscape", "/usr/bin/inkscape")); // 5%
  if (i % 5 === 0) {
    // A link: processes of it run python3.11, the name originalFileName gives.
    const python = dpkg("python3-minimal", "3.11.2-1", []);
    python.files = [{ path: "/usr/bin/python3", sha256: null, realName: "python3.11" }];
    products.set("dpkg/python3-minimal:amd64", python);
  }
  if (i === 4) products.set("desktop/emacs.desktop", desktop("Émacs", "/usr/bin/emacs"));
  return products;
}

/** When client i last ran `code`: recently, long ago, or never. */
function lastCodeRun(i: number): number | null {
  if (i % 4 === 0 || i === 1) return NOW - 2 * DAY_MS; // i = 1 runs it without it installed
  if (i === 2 || i === 6) return NOW - 20 * DAY_MS; // summaries are made within raw retention (30 days)
  return null;
}

const installsCode = (i: number) => i % 2 === 0;

describe("inventory reports on simulated clients", () => {
  let r: ReportSite;
  let code: Rule;
  let code19: Rule;
  let python: Rule;
  let pythonReal: Rule;
  let pythonLink: Rule;
  const agents: FakeAgent[] = [];

  beforeAll(async () => {
    r = await startReportSite();
    code = await addRule(r.url, r.admin, { name: "Code", fileName: "code" });
    code19 = await addRule(r.url, r.admin, { name: "Code 1.9", fileName: "Code", version: "1.9*" });
    python = await addRule(r.url, r.admin, { name: "Python", fileName: "python3" });
    pythonReal = await addRule(r.url, r.admin, { name: "Python", originalFileName: "python3.1?" });
    pythonLink = await addRule(r.url, r.admin, { name: "Python", originalFileName: "python3" });
    for (let i = 0; i < CLIENTS; i++) {
      const agent = await enrollFakeAgent(r.url, r.enroll, `host-${String(i).padStart(2, "0")}`);
      agents.push(agent);
      let inventory = newRecordDoc(agent.actor);
      inventory = A.change(inventory, (d) => {
        for (const [key, product] of inventoryOf(i)) d[key] = encodeProduct(product);
      });
      const items = [itemFor(inventoryDocId(agent.clientId), inventory)];
      const last = lastCodeRun(i);
      if (last !== null) {
        const day = dayOf(last);
        const usage = writeSessions(newRecordDoc(agent.actor), day, [
          session({
            id: `${day}/1`,
            ruleId: code.id,
            user: "ann",
            start: last,
            end: last + 60_000,
          }),
        ]);
        items.push(itemFor(usageDocId(agent.clientId, day), usage));
      }
      const sent = await sendBatch(r.url, agent, items);
      if (sent.status !== 200) throw new Error(JSON.stringify(sent));
    }
    await r.site.summarizer.run();
  });

  afterAll(() => r?.close());

  const report = async (name: string, query: Record<string, string> = {}) => {
    const response = await api(
      r.url,
      r.viewer,
      "GET",
      `/v1/reports/${name}?${new URLSearchParams(query)}`,
    );
    const body = await response.json();
    if (response.status !== 200) throw new Error(JSON.stringify(body));
    return body;
  };

  const indexes = (predicate: (i: number) => boolean) =>
    Array.from({ length: CLIENTS }, (_, i) => i).filter(predicate);

  test("install-base counts installed computers and those that used it in the window", async () => {
    const { rows } = await report("install-base", { days: String(WINDOW_DAYS) });
    const recent = (i: number) => (lastCodeRun(i) ?? 0) >= NOW - WINDOW_DAYS * DAY_MS;
    const codeRow = rows.find((row: { ruleId: string }) => row.ruleId === code.id);
    const installed = indexes(installsCode);
    const used = installed.filter(recent);
    expect(codeRow).toMatchObject({
      installed: installed.length,
      used: used.length,
      notUsed: installed.length - used.length,
    });
    // Only the dpkg product of clients 0-8 has a version the glob 1.9* matches.
    const withVersion = indexes((i) => installsCode(i) && i < 10);
    // Its usage counts only sessions recorded under it, and the agents recorded them under `code`.
    expect(rows.find((row: { ruleId: string }) => row.ruleId === code19.id)).toMatchObject({
      installed: withVersion.length,
      used: 0,
    });
  });

  test("a link counts under its own name for fileName, under its target's for originalFileName", async () => {
    const { rows } = await report("install-base");
    const installed = (rule: Rule) =>
      rows.find((row: { ruleId: string }) => row.ruleId === rule.id).installed;
    const withPython = indexes((i) => i % 5 === 0).length;
    expect(installed(python)).toBe(withPython);
    expect(installed(pythonReal)).toBe(withPython);
    expect(installed(pythonLink)).toBe(0);
  });

  test("installed-not-run lists installed computers without use since the date, never included", async () => {
    const since = new Date(NOW - WINDOW_DAYS * DAY_MS).toISOString();
    const { rows } = await report("installed-not-run", { rule: code.id, since });
    const expected = indexes((i) =>
      installsCode(i) && (lastCodeRun(i) === null || lastCodeRun(i)! < NOW - WINDOW_DAYS * DAY_MS)
    );
    expect(rows.map((row: { clientId: string }) => row.clientId).sort()).toEqual(
      expected.map((i) => agents[i].clientId).sort(),
    );
    const never = rows.filter((row: { lastUse: string | null }) => row.lastUse === null);
    expect(never).toHaveLength(expected.filter((i) => lastCodeRun(i) === null).length);
    // Never-used first.
    expect(rows[0].lastUse).toBeNull();
  });

  test("unused adds installed computers that never ran it", async () => {
    const since = new Date(NOW - WINDOW_DAYS * DAY_MS).toISOString();
    const { rows } = await report("unused", { rule: code.id, since });
    const expected = indexes((i) => {
      const last = lastCodeRun(i);
      return last === null ? installsCode(i) : last < NOW - WINDOW_DAYS * DAY_MS;
    });
    expect(rows.map((row: { clientId: string }) => row.clientId).sort()).toEqual(
      expected.map((i) => agents[i].clientId).sort(),
    );
  });

  test("the software report filters by product, version, source and computer", async () => {
    const all = await report("software", { limit: "100000" });
    const expectedCount = indexes(() => true).reduce((n, i) => n + inventoryOf(i).size, 0);
    expect(all.rows).toHaveLength(expectedCount);
    const code19rows = await report("software", { product: "CODE", version: "1.9*" });
    expect(code19rows.rows.map((row: { hostName: string }) => row.hostName).sort()).toEqual(
      indexes((i) => installsCode(i) && i < 10).map((i) => `host-${String(i).padStart(2, "0")}`),
    );
    const host0 = await report("software", { client: "host-00", source: "desktop" });
    expect(host0.rows).toHaveLength(
      [...inventoryOf(0).values()].filter((p) => p.source === "desktop").length,
    );
    // Any case, beyond ASCII too.
    const emacs = await report("software", { product: "émacs" });
    expect(emacs.rows.map((row: { hostName: string }) => row.hostName)).toEqual(["host-04"]);
    const page = await report("software", { limit: "5", offset: "5" });
    expect(page.rows).toEqual(all.rows.slice(5, 10));
  });

  test("a collection of computers with a product and version installed", async () => {
    const created = await api(r.url, r.admin, "POST", "/v1/collections", {
      name: "Code 1.9",
      definition: { installed: { product: "code", version: "1.9*" } },
    });
    expect(created.status).toBe(201);
    const { id } = await created.json();
    const members = await api(r.url, r.viewer, "GET", `/v1/collections/${id}/members`);
    const body = await members.json();
    expect(body.members.map((m: { clientId: string }) => m.clientId).sort()).toEqual(
      indexes((i) => installsCode(i) && i < 10).map((i) => agents[i].clientId).sort(),
    );
  });

  test("automatic rules: threshold edge, existing rules, the maximum, applications only", async () => {
    const settings = (patch: Record<string, unknown>) =>
      api(r.url, r.admin, "PATCH", "/v1/settings", patch);
    const runAuto = async () => {
      const response = await api(r.url, r.admin, "POST", "/v1/rules/auto");
      expect([200, 201]).toContain(response.status);
      return await response.json();
    };
    expect((await settings({ autoRulesPercent: 10, autoRulesMax: 4 })).status).toBe(200);

    // Six apps on every computer come first, by file name; the maximum stops at four.
    const first = await runAuto();
    expect(first).toMatchObject({ computers: CLIENTS, threshold: 2, candidates: 8 });
    expect(first.created.map((rule: Rule) => rule.fileName)).toEqual([
      "app0",
      "app1",
      "app2",
      "app3",
    ]);
    for (const rule of first.created) {
      expect(rule).toMatchObject({ enabled: false, origin: "auto" });
    }
    expect((await runAuto()).created).toEqual([]);

    // With room: the rest of the apps and GIMP (on exactly 10%); not code (a rule names it),
    // not Inkscape (5%), not coreutils (not an application).
    await settings({ autoRulesMax: 100 });
    const second = await runAuto();
    expect(second.created.map((rule: Rule) => [rule.fileName, rule.name])).toEqual([
      ["app4", "App 4"],
      ["app5", "App 5"],
      ["gimp", "GIMP"],
    ]);
    expect((await runAuto()).created).toEqual([]);

    await settings({ autoRulesApplicationsOnly: false });
    const third = await runAuto();
    expect(third.created.map((rule: Rule) => rule.fileName)).toEqual(["cat", "ls"]);

    const { rows } = await report("install-base");
    const gimp = rows.find((row: { ruleName: string }) => row.ruleName === "GIMP");
    expect(gimp).toMatchObject({ installed: 2, used: 0, enabled: false, origin: "auto" });
    const viewerRun = await api(r.url, r.viewer, "POST", "/v1/rules/auto");
    expect(viewerRun.status).toBe(403);

    // The command line runs the same; everything is created already.
    const cli = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", MAIN, "rules", "auto", "--site", r.url, "--token", r.admin],
      stdout: "piped",
      stderr: "piped",
    }).output();
    expect(cli.code, new TextDecoder().decode(cli.stderr)).toBe(0);
    expect(new TextDecoder().decode(cli.stderr)).toMatch(
      /^0 created: 11 programs on at least 2 of 20/,
    );
  });
});
