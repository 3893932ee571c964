/**
 * Summaries flowing up a hierarchy of real site processes on loopback: a top
 * site (TOP) with two children (CHA, CHB) and a grandchild under CHA (GRC),
 * an agent at each metering a real program a known number of times under a
 * rule the top applies to child sites. After the sites summarise and sync,
 * every report at a site equals its own clients plus the reports of the
 * sites below it (exact for computers and runs; people are counted once
 * across sites; concurrency is shown per site and summed). Then CHA is
 * stopped while GRC keeps metering, and restarted: the top converges to the
 * figures of a run without the partition. A child that sends the summaries
 * of a site outside its subtree is refused and changes nothing.
 */
import * as A from "@automerge/automerge";
import { createClient } from "@libsql/client";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { summaryDocId } from "../model/doc_id.ts";
import { newActorId } from "../lib/secret.ts";
import { CBOR_TYPE, encodeSyncBody } from "../sync/sync_batch.ts";
import { fullMessage } from "./helpers/fake_agent.ts";
import { encodeSummaryValue } from "../site/hierarchy/summary_record.ts";
import { copySleep, runProgram, uniqueName } from "./helpers/metered_program.ts";
import {
  type MeterProcess,
  type SiteHandle,
  startAgent,
  startSite,
} from "./helpers/meter_process.ts";
import { addRule, api, makeToken, sessions } from "./helpers/site_api.ts";
import { waitFor } from "./helpers/wait_for.ts";

const CODES = ["TOP", "CHA", "CHB", "GRC"] as const;
type Code = (typeof CODES)[number];
const PARENT: Record<Code, Code | null> = { TOP: null, CHA: "TOP", CHB: "TOP", GRC: "CHA" };
const MONTH = new Date().toISOString().slice(0, 7);

interface Totals {
  users: number;
  computers: number;
  runs: number;
}

describe("summaries up a three-level hierarchy", () => {
  let dir: string;
  let program: string;
  let ruleId: string;
  const sites = {} as Record<Code, SiteHandle>;
  const admin = {} as Record<Code, string>;
  const agents = {} as Record<Code, MeterProcess>;

  async function startOne(code: Code, port = 0): Promise<SiteHandle> {
    const parent = PARENT[code];
    const extra = parent
      ? [
        "--parent",
        sites[parent].url,
        "--parent-interval",
        "1",
        ...(admin[code] ? [] : ["--parent-token", await makeToken(sites[parent].db, "site")]),
      ]
      : [];
    return await startSite(dir, { code, port, extra });
  }

  beforeAll(async () => {
    dir = await Deno.makeTempDir({ prefix: "meter-summaries-up-" });
    for (const code of CODES) {
      sites[code] = await startOne(code);
      admin[code] = await makeToken(sites[code].db, "admin");
      agents[code] = startAgent(sites[code].url, {
        db: join(dir, `agent-${code}.db`),
        enrollToken: await makeToken(sites[code].db, "enroll"),
        interval: 1,
      });
    }
    const name = uniqueName("mtest-up");
    program = await copySleep(dir, name);
    ruleId = (await addRule(sites.TOP.url, admin.TOP, {
      name: "Shared",
      fileName: name,
      applyToChildSites: true,
    })).id;
    for (const code of CODES) {
      await waitFor(
        `${code}'s agent to load the rule`,
        () => agents[code].logged("rules loaded").some((e) => e.rules === 1),
        { timeoutMs: 60_000 },
      );
    }
  });

  afterAll(async () => {
    for (const code of CODES) await agents[code]?.stop();
    for (const code of [...CODES].reverse()) await sites[code]?.process.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  });

  /**
   * Runs the program `times` times, one after the other. Every agent on this
   * machine sees every run, so each site's own sessions are read from it.
   */
  async function meter(times: number): Promise<void> {
    for (let i = 0; i < times; i++) await runProgram(program, 1.2).ended;
  }

  async function summarise(code: Code): Promise<void> {
    const response = await api(sites[code].url, admin[code], "POST", "/v1/summaries/run");
    expect(response.status).toBe(200);
    await response.body?.cancel();
  }

  async function totals(code: Code): Promise<Totals> {
    const response = await api(
      sites[code].url,
      admin[code],
      "GET",
      `/v1/reports/total-usage?month=${MONTH}`,
    );
    const { rows } = await response.json();
    const row = rows.find((r: { ruleId: string }) => r.ruleId === ruleId);
    return { users: row?.users ?? 0, computers: row?.computers ?? 0, runs: row?.runs ?? 0 };
  }

  /** Each site's own sessions, from its raw usage. */
  async function ownSessions(code: Code): Promise<number> {
    return (await sessions(sites[code].url, admin[code], { rule: ruleId }))
      .filter((s) => s.end !== null).length;
  }

  test("every report at a site covers its own clients and every site below", async () => {
    await meter(3);
    const own = {} as Record<Code, number>;
    for (const code of CODES) {
      own[code] = await waitFor(`${code}'s sessions`, async () => {
        const n = await ownSessions(code);
        return n >= 3 ? n : undefined;
      });
    }
    for (const code of ["GRC", "CHA", "CHB", "TOP"] as Code[]) await summarise(code);
    const expected = {
      GRC: own.GRC,
      CHB: own.CHB,
      CHA: own.CHA + own.GRC,
      TOP: own.TOP + own.CHA + own.GRC + own.CHB,
    };
    const computers = { GRC: 1, CHB: 1, CHA: 2, TOP: 4 };
    for (const code of CODES) {
      await waitFor(`${code}'s totals to cover the sites below`, async () => {
        if (code !== "GRC") await summarise(code);
        const found = await totals(code);
        return found.runs === expected[code] && found.computers === computers[code];
      }, { timeoutMs: 60_000 });
      // All agents run as the same user: one person, counted once across sites.
      expect((await totals(code)).users).toBe(1);
    }

    const ran = await api(
      sites.TOP.url,
      admin.TOP,
      "GET",
      `/v1/reports/computers-ran?rule=${ruleId}&month=${MONTH}`,
    );
    const { rows } = await ran.json();
    expect(rows).toHaveLength(4);
    expect(rows.every((r: { hostName: string }) => r.hostName === Deno.hostname())).toBe(true);

    // Peaks: each site shows its own clients' exact peak, and the sum of the peaks of
    // itself and every site below.
    const peaks = {} as Record<Code, Record<string, number>>;
    for (const code of CODES) {
      const response = await api(
        sites[code].url,
        admin[code],
        "GET",
        `/v1/reports/concurrent-usage?month=${MONTH}`,
      );
      peaks[code] = (await response.json()).rows.find((r: { ruleId: string }) =>
        r.ruleId === ruleId
      );
      expect(peaks[code].peakSessions).toBeGreaterThan(0);
    }
    const peak = (code: Code) => peaks[code].peakSessions;
    expect(peaks.TOP).toMatchObject({
      sites: 4,
      sitesPeakSessionsSum: peak("TOP") + peak("CHA") + peak("CHB") + peak("GRC"),
    });
    expect(peaks.CHA).toMatchObject({ sites: 2, sitesPeakSessionsSum: peak("CHA") + peak("GRC") });
    expect(peaks.GRC).toMatchObject({ sites: 1, sitesPeakSessionsSum: peak("GRC") });

    // site= restricts a report at the top to one subtree.
    const at = async (path: string) => {
      const response = await api(sites.TOP.url, admin.TOP, "GET", path);
      return { status: response.status, body: await response.json() };
    };
    for (
      const [code, runs, computers] of [
        ["CHA", expected.CHA, 2],
        ["GRC", expected.GRC, 1],
        ["CHB", expected.CHB, 1],
        ["TOP", expected.TOP, 4],
      ] as const
    ) {
      const { body } = await at(`/v1/reports/total-usage?month=${MONTH}&site=${code}`);
      const row = body.rows.find((r: { ruleId: string }) => r.ruleId === ruleId);
      expect([code, row.runs, row.computers]).toEqual([code, runs, computers]);
    }
    const cha = await at(`/v1/reports/computers-ran?rule=${ruleId}&month=${MONTH}&site=CHA`);
    expect(cha.body.rows).toHaveLength(2);
    expect(cha.body.parameters.site).toBe("CHA");
    const chaPeaks = await at(`/v1/reports/concurrent-usage?month=${MONTH}&site=CHA`);
    expect(chaPeaks.body.rows.find((r: { ruleId: string }) => r.ruleId === ruleId)).toMatchObject({
      peakSessions: peak("CHA"),
      sites: 2,
      sitesPeakSessionsSum: peak("CHA") + peak("GRC"),
    });
    const unknown = await at(`/v1/reports/total-usage?month=${MONTH}&site=ZZZ`);
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toContain("site: ZZZ is not this site or a site below it");

    const sitesAtTop = await api(sites.TOP.url, admin.TOP, "GET", "/v1/sites");
    const listed = (await sitesAtTop.json()).sites.map((
      s: Record<string, string>,
    ) => [s.code, s.parent, s.relation]);
    expect(listed).toEqual([
      ["TOP", null, "self"],
      ["CHA", "TOP", "child"],
      ["CHB", "TOP", "child"],
      ["GRC", "CHA", "descendant"],
    ]);
  });

  test("a child cut off for a while catches up exactly once it is back", async () => {
    const port = sites.CHA.port;
    await sites.CHA.process.stop();
    const grcBefore = await ownSessions("GRC");
    // Every agent here sees these runs; GRC's reach the top only through CHA.
    await meter(2);
    await waitFor("GRC's new sessions", async () => (await ownSessions("GRC")) >= grcBefore + 2);
    await summarise("GRC");

    sites.CHA = await startOne("CHA", port);
    await waitFor("the top to converge to the sum of every site's own sessions", async () => {
      for (const code of ["GRC", "CHA", "CHB", "TOP"] as Code[]) await summarise(code);
      let sum = 0;
      for (const code of CODES) sum += await ownSessions(code);
      const top = await totals("TOP");
      return top.runs === sum && top.computers === 4;
    }, { timeoutMs: 60_000 });
  });

  test("a child that sends another subtree's summaries is refused and nothing changes", async () => {
    const chb = createClient({ url: `file:${sites.CHB.db}` });
    const secret = (await chb.execute("SELECT value FROM site_meta WHERE key = 'parent_secret'"))
      .rows[0].value as string;
    chb.close();
    const before = await totals("TOP");
    const day = new Date().toISOString().slice(0, 10);
    const forged = A.change(A.init<Record<string, Uint8Array>>({ actor: newActorId() }), (d) => {
      d["h/TOP-1/0"] = new Uint8Array([0x80]);
    });
    const response = await fetch(new URL("/v1/sites/sync", sites.TOP.url), {
      method: "POST",
      headers: { authorization: `Bearer CHB.${secret}`, "content-type": CBOR_TYPE },
      body: encodeSyncBody({
        items: [{ doc: summaryDocId("GRC", day, 0), msg: fullMessage(forged) }],
      }) as Uint8Array<ArrayBuffer>,
    });
    expect(response.status).toBe(403);
    expect((await response.json()).error.message).toContain("may not sync summary/GRC/");
    expect(await totals("TOP")).toEqual(before);
  });

  test("a site below that claims another subtree's code is held back, not the rest", async () => {
    // A rogue site registers at CHA under CHB's code, which CHA cannot know is taken.
    const actor = newActorId();
    const registered = await fetch(new URL("/v1/sites/register", sites.CHA.url), {
      method: "POST",
      headers: {
        authorization: `Bearer ${await makeToken(sites.CHA.db, "site")}`,
        "content-type": "application/json",
      },
      body: JSON.stringify({ code: "CHB", actor }),
    });
    expect(registered.status).toBe(201);
    const { secret } = await registered.json();
    const day = new Date().toISOString().slice(0, 10);
    const rogue = A.change(A.init<Record<string, Uint8Array>>({ actor }), (d) => {
      d[`h/${ruleId}/${Date.parse(`${day}T00:00:00Z`)}`] = encodeSummaryValue({
        kind: "h",
        ruleId,
        hourMs: 0,
        values: [1, 1, 1, 1, 1, 1, null, 1, null, 0, 0],
      });
    });
    const accepted = await fetch(new URL("/v1/sites/sync", sites.CHA.url), {
      method: "POST",
      headers: { authorization: `Bearer CHB.${secret}`, "content-type": CBOR_TYPE },
      body: encodeSyncBody({
        items: [{ doc: summaryDocId("CHB", day, 0), msg: fullMessage(rogue) }],
      }) as Uint8Array<ArrayBuffer>,
    });
    expect(accepted.status).toBe(200);
    await accepted.body?.cancel();

    // CHA relays it, TOP refuses it; CHA holds it back and everything else still flows.
    await meter(1);
    await waitFor("the top to converge despite the rogue site", async () => {
      for (const code of ["GRC", "CHA", "CHB", "TOP"] as Code[]) await summarise(code);
      let sum = 0;
      for (const code of CODES) sum += await ownSessions(code);
      return (await totals("TOP")).runs === sum;
    }, { timeoutMs: 60_000 });
    const held = sites.CHA.process.logged(
      "the parent refuses the documents of a site; they are held back",
    );
    expect(held.map((e) => e.site)).toContain("CHB");
  });
});
