/**
 * Licence positions across a hierarchy of real site processes on loopback:
 * a top site (TOP) and its child (CHD), each with simulated clients of known
 * installs and runs. The licences are made at the top and reach the child
 * with its rules; each site counts its own clients, the child's counts and
 * curves travel up in its summary documents, and the positions at both
 * sites equal the ground truth of their subtrees (`helpers/licence_truth.ts`),
 * including a concurrent peak whose users overlap across the site boundary,
 * where the sum of the two sites' peaks would be wrong. Then the top is away
 * while the child takes a week of new runs, and once it is back the top's
 * positions are exact again.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { DAY_MS, dayOf, dayStart } from "../model/doc_id.ts";
import type { Licence, LicenceFields } from "../model/licence.ts";
import {
  MIN,
  sendClient,
  type TruthClient,
  truthFigures,
  type TruthRun,
} from "./helpers/licence_truth.ts";
import { type SiteHandle, startSite } from "./helpers/meter_process.ts";
import { addRule, api, makeToken } from "./helpers/site_api.ts";
import { waitFor } from "./helpers/wait_for.ts";

const NOW = Date.now();
const TODAY = dayStart(dayOf(NOW));
const at = (daysAgo: number, hour: number, minute = 0) =>
  TODAY - daysAgo * DAY_MS + hour * 3_600_000 + minute * MIN;

const CLIENTS: TruthClient[] = [
  ...[0, 1, 2, 3].map((i) => ({ name: `top-${i}`, site: "TOP", installs: i < 3 ? ["cad"] : [] })),
  ...[0, 1, 2, 3, 4].map((i) => ({
    name: `chd-${i}`,
    site: "CHD",
    installs: i % 2 === 0 ? ["cad"] : [],
  })),
];

const RUNS: TruthRun[] = [];
const add = (client: string, user: string, start: number, minutes: number) =>
  RUNS.push({ client, program: "cad", user, start, end: start + minutes * MIN });
// Three days ago: two users at the top from 10:00 to 10:30; at the child, one user from
// 10:10 to 10:20 and two from 11:00 to 11:30. The subtree's peak is 3 (10:10), the sum of
// the sites' peaks 4. ann runs at both sites: each site counts her.
add("top-0", "ann", at(3, 10), 30);
add("top-1", "bob", at(3, 10), 30);
add("chd-0", "ann", at(3, 10, 10), 10);
add("chd-1", "cat", at(3, 11), 30);
add("chd-2", "dan", at(3, 11), 30);
// Short runs: below a 5-minute threshold.
add("top-2", "eve", at(4, 9), 2);
add("chd-3", "fay", at(4, 9), 3);

/** A computer enrolled at the child while the top is away. */
const NEW_CLIENT: TruthClient = { name: "chd-new", site: "CHD", installs: ["cad"] };

/** The runs the child takes while the top is away: a week of them, one a day. */
const LATE: TruthRun[] = Array.from({ length: 7 }, (_, d) => ({
  client: "chd-new",
  program: "cad",
  user: `late${d % 3}`,
  start: at(d + 1, 15),
  end: at(d + 1, 15) + 40 * MIN,
}));

describe("licence positions up a hierarchy", () => {
  let dir: string;
  const sites = {} as Record<"TOP" | "CHD", SiteHandle>;
  const admin = {} as Record<"TOP" | "CHD", string>;
  const rules: Record<string, string> = {};
  const licences: Licence[] = [];

  const startChild = async (token?: string) =>
    await startSite(dir, {
      code: "CHD",
      extra: [
        "--parent",
        sites.TOP.url,
        "--parent-interval",
        "1",
        ...(token ? ["--parent-token", token] : []),
      ],
    });

  beforeAll(async () => {
    dir = await Deno.makeTempDir({ prefix: "meter-licences-up-" });
    sites.TOP = await startSite(dir, { code: "TOP" });
    admin.TOP = await makeToken(sites.TOP.db, "admin");
    sites.CHD = await startChild(await makeToken(sites.TOP.db, "site"));
    admin.CHD = await makeToken(sites.CHD.db, "admin");
    rules.cad = (await addRule(sites.TOP.url, admin.TOP, {
      name: "CAD",
      fileName: "cad",
      applyToChildSites: true,
    })).id;
    const made = async (fields: Omit<LicenceFields, "ruleIds">) => {
      const response = await api(sites.TOP.url, admin.TOP, "POST", "/v1/licences", {
        ...fields,
        ruleIds: [rules.cad],
      });
      expect(response.status).toBe(201);
      licences.push(await response.json());
    };
    await made({ name: "per device", model: "device", quantity: 5, windowDays: 30 });
    await made({ name: "named", model: "user", quantity: 3, windowDays: 30, thresholdMinutes: 5 });
    await made({ name: "floating", model: "concurrent", quantity: 2, windowDays: 30 });
    await waitFor("the child to have the top's rule and licences", async () => {
      const response = await api(sites.CHD.url, admin.CHD, "GET", "/v1/licences");
      const { licences: there } = await response.json();
      const rule = await api(sites.CHD.url, admin.CHD, "GET", `/v1/rules/${rules.cad}`);
      await rule.body?.cancel();
      return there.length === 3 && rule.status === 200 ? true : undefined;
    }, { timeoutMs: 30_000 });
    for (const code of ["TOP", "CHD"] as const) {
      const enroll = await makeToken(sites[code].db, "enroll");
      for (const client of CLIENTS.filter((c) => c.site === code)) {
        await sendClient(sites[code].url, enroll, client, RUNS, rules);
      }
    }
  });

  afterAll(async () => {
    await sites.CHD?.process.stop();
    await sites.TOP?.process.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  });

  const post = async (code: "TOP" | "CHD", path: string) => {
    const response = await api(sites[code].url, admin[code], "POST", path);
    expect(response.status).toBe(200);
    await response.body?.cancel();
  };

  const positions = async (code: "TOP" | "CHD") => {
    await post(code, "/v1/licences/refresh");
    const response = await api(sites[code].url, admin[code], "GET", "/v1/reports/licence-position");
    const { rows } = await response.json();
    return rows as Record<string, unknown>[];
  };

  /** What each licence's position must show over `clients`. */
  const truth = (clients: TruthClient[], runs: TruthRun[]) =>
    licences.map((licence) => {
      const f = truthFigures(clients, runs, {
        pool: ["cad"],
        windowDays: licence.windowDays,
        thresholdMinutes: licence.thresholdMinutes,
      }, NOW);
      const consumed = {
        device: f.installed + f.usedComputers - f.installedUsed,
        user: f.usedUsers,
        concurrent: f.peak.users,
      }[licence.model];
      return {
        licenceId: licence.id,
        installed: f.installed,
        consumed,
        shortfall: Math.max(0, consumed - licence.quantity),
        peakAt: licence.model === "concurrent" ? new Date(f.peak.at!).toISOString() : null,
      };
    });

  /** Summarises and refreshes at the child, then waits until the top shows `expected`. */
  async function converge(expected: ReturnType<typeof truth>) {
    await post("CHD", "/v1/summaries/run");
    await post("CHD", "/v1/licences/refresh");
    await post("TOP", "/v1/summaries/run");
    let shown: unknown;
    try {
      return await waitFor("the top's positions to cover the child", async () => {
        const rows = await positions("TOP");
        shown = expected.map((e, i) => {
          const row = rows.find((row) => row.licenceId === e.licenceId);
          return Object.fromEntries(Object.keys(expected[i]).map((key) => [key, row?.[key]]));
        });
        return JSON.stringify(shown) === JSON.stringify(expected) ? rows : undefined;
      }, { timeoutMs: 30_000 });
    } catch (error) {
      expect(shown, (error as Error).message).toEqual(expected);
      throw error;
    }
  }

  test("the child's position covers its clients; the top's its whole subtree, exactly", async () => {
    await post("CHD", "/v1/summaries/run");
    const child = await positions("CHD");
    const childTruth = truth(CLIENTS.filter((c) => c.site === "CHD"), RUNS);
    for (const expected of childTruth) {
      expect(child.find((row) => row.licenceId === expected.licenceId)).toMatchObject(expected);
    }
    await post("TOP", "/v1/summaries/run");
    const top = await converge(truth(CLIENTS, RUNS));
    const floating = top.find((row) => row.model === "concurrent")!;
    // Not the sum of the sites' peaks (2 + 2): the child's second pair came after the top's left.
    expect(floating).toMatchObject({ consumed: 3, shortfall: 1, sites: 2 });
    expect(top.find((row) => row.model === "user")).toMatchObject({ consumed: 5, shortfall: 2 });
  });

  test("the child shows the top's licences but may not change them", async () => {
    const before = await (await api(sites.CHD.url, admin.CHD, "GET", "/v1/licences")).json();
    expect(before.licences.map((l: Licence) => l.siteCode)).toEqual(["TOP", "TOP", "TOP"]);
    const [licence] = licences;
    for (
      const [method, body] of [["PATCH", { quantity: 1000 }], ["DELETE", undefined]] as const
    ) {
      const response = await api(
        sites.CHD.url,
        admin.CHD,
        method,
        `/v1/licences/${licence.id}`,
        body,
      );
      expect(response.status, method).toBe(403);
      expect((await response.json()).error.message).toContain("belongs to site TOP");
    }
    expect(await (await api(sites.CHD.url, admin.CHD, "GET", "/v1/licences")).json())
      .toEqual(before);
    // Nor can it record one covering the top: the top is not below it.
    const above = await api(sites.CHD.url, admin.CHD, "POST", "/v1/licences", {
      name: "x",
      ruleIds: [rules.cad],
      model: "device",
      quantity: 1,
      coversSite: "TOP",
    });
    expect(above.status).toBe(400);
    expect((await above.json()).error.message).toContain("coversSite");
  });

  test("a child away from its parent for a week catches up exactly", async () => {
    await sites.TOP.process.stop();
    const enroll = await makeToken(sites.CHD.db, "enroll");
    await sendClient(
      sites.CHD.url,
      enroll,
      NEW_CLIENT,
      LATE,
      rules,
    );
    await post("CHD", "/v1/summaries/run");
    await post("CHD", "/v1/licences/refresh");
    sites.TOP = await startSite(dir, { code: "TOP", port: sites.TOP.port });
    await converge(truth([...CLIENTS, NEW_CLIENT], [...RUNS, ...LATE]));
  });
});
