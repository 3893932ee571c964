/**
 * Summary documents of the sites below, materialised at a parent on a real
 * site database: daily rows join `daily_usage` and the months above them are
 * recomputed by the next summariser run; hourly and local-hour records are kept per site (the
 * latter per time zone too, a key naming none being UTC's); a removed record removes its row; and a record naming one of the parent's own
 * clients, or a client another site reported first, changes nothing. Licence counts and curves
 * are kept per site, the newest day's counts winning; a malformed one is refused.
 */
import * as A from "@automerge/automerge";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { summaryStatements } from "../site/hierarchy/summary_materializer.ts";
import {
  encodeSummaryValue,
  summaryKey,
  type SummaryRecord,
} from "../site/hierarchy/summary_record.ts";
import { type SiteContext } from "../site/site_context.ts";
import { closeSite, openSite } from "../site/site_server.ts";
import { changedKeys } from "../store/changed_keys.ts";
import { tempDir } from "./helpers/metered_program.ts";
import { encode } from "cbor-x";

const DAY = "2026-11-20";
const HOUR = Date.parse(`${DAY}T09:00:00Z`);

const local = (timeZone: string, users: number): SummaryRecord => ({
  kind: "l",
  ruleId: "TOP-1",
  localDate: DAY,
  localHour: 10,
  timeZone,
  values: [5, users],
});

const day = (clientId: string, runs: number, user = "ann"): SummaryRecord => ({
  kind: "d",
  clientId,
  ruleId: "TOP-1",
  user,
  values: [runs, runs * 60_000, HOUR + runs, 0, 0],
});

describe("summaries of the sites below, at the parent", () => {
  let site: SiteContext;
  let temp: { dir: string; remove(): Promise<void> };

  beforeAll(async () => {
    temp = await tempDir("meter-summary-materializer-");
    site = await openSite({ db: join(temp.dir, "site.db"), code: "TOP" });
    await site.db.execute(
      `INSERT INTO clients (client_id, host_name, enrolled_at, enrolled_with)
      VALUES ('ownclient', 'own', 0, 'test')`,
    );
  });

  afterAll(async () => {
    closeSite(site);
    await temp.remove();
  });

  /** Applies a change to a site's summary document and stores what it materialises. */
  async function apply(
    from: string,
    doc: A.Doc<Record<string, Uint8Array>>,
    change: (d: Record<string, Uint8Array>) => void,
  ) {
    const before = A.getHeads(doc);
    const next = A.change(doc, change);
    await site.db.batch(summaryStatements(from, DAY, next, changedKeys(next, before)), "write");
    return next;
  }

  const put = (d: Record<string, Uint8Array>, record: SummaryRecord) => {
    d[summaryKey(record)] = encodeSummaryValue(record);
  };

  const rows = async (sql: string) => (await site.db.execute(sql)).rows.map((r) => ({ ...r }));

  test("records become rows, months are recomputed, and a removed record goes", async () => {
    let cha = A.init<Record<string, Uint8Array>>();
    cha = await apply("CHA", cha, (d) => {
      put(d, day("chaclient", 3));
      put(d, { kind: "c", clientId: "chaclient", values: ["cha-host", "Europe/Paris"] });
      put(d, {
        kind: "h",
        ruleId: "TOP-1",
        hourMs: HOUR,
        values: [1, 1, 1, 3, 180_000, 2, HOUR + 5, 1, HOUR + 5, 0, 0],
      });
      put(d, local("UTC", 1));
      put(d, local("America/Argentina/Buenos_Aires", 2));
    });
    // A UTC record keeps the key it had before zones were named.
    expect(Object.keys(cha).filter((k) => k.startsWith("l/")).sort()).toEqual([
      `l/TOP-1/${DAY}/10`,
      `l/TOP-1/${DAY}/10/America%2FArgentina%2FBuenos_Aires`,
    ]);
    expect(await rows("SELECT client_id, runs FROM daily_usage")).toEqual([
      { client_id: "chaclient", runs: 3 },
    ]);
    expect(await rows("SELECT * FROM monthly_usage")).toEqual([]); // until the summariser runs
    await site.summarizer.run();
    expect(await rows("SELECT * FROM months_pending")).toEqual([]);
    expect(await rows("SELECT client_id, runs FROM monthly_usage")).toEqual([
      { client_id: "chaclient", runs: 3 },
    ]);
    expect(await rows("SELECT computers, runs FROM monthly_totals")).toEqual([
      { computers: 1, runs: 3 },
    ]);
    expect(await rows("SELECT site_code, peak_sessions FROM site_hourly_usage")).toEqual([
      { site_code: "CHA", peak_sessions: 2 },
    ]);
    const locals = "SELECT site_code, time_zone, users FROM site_local_hour_users ORDER BY users";
    expect(await rows(locals)).toEqual([
      { site_code: "CHA", time_zone: "UTC", users: 1 },
      { site_code: "CHA", time_zone: "America/Argentina/Buenos_Aires", users: 2 },
    ]);
    expect(await rows("SELECT host_name FROM descendant_clients")).toEqual([
      { host_name: "cha-host" },
    ]);

    cha = await apply("CHA", cha, (d) => {
      delete d[summaryKey(day("chaclient", 3))];
      delete d[summaryKey(local("America/Argentina/Buenos_Aires", 2))];
    });
    expect(await rows("SELECT * FROM daily_usage")).toEqual([]);
    expect(await rows(locals)).toEqual([{ site_code: "CHA", time_zone: "UTC", users: 1 }]);
    await site.summarizer.run();
    expect(await rows("SELECT * FROM monthly_usage")).toEqual([]);
  });

  test("a record about the parent's own client or another site's client changes nothing", async () => {
    await site.db.execute(
      `INSERT INTO daily_usage VALUES ('ownclient', '${DAY}', 'TOP-1', 'ann', 7, 1, 1, 0, 0, 'UTC', 0)`,
    );
    const chb = A.init<Record<string, Uint8Array>>();
    let cha = A.init<Record<string, Uint8Array>>();
    cha = await apply("CHA", cha, (d) => {
      put(d, { kind: "c", clientId: "chaclient", values: ["cha-host", "UTC"] });
      put(d, day("chaclient", 2));
    });
    await apply("CHB", chb, (d) => {
      put(d, day("ownclient", 99));
      put(d, day("chaclient", 99));
      put(d, { kind: "c", clientId: "chaclient", values: ["forged", "UTC"] });
    });
    expect(await rows("SELECT client_id, runs FROM daily_usage ORDER BY client_id")).toEqual([
      { client_id: "chaclient", runs: 2 },
      { client_id: "ownclient", runs: 7 },
    ]);
    expect(await rows("SELECT site_code, host_name FROM descendant_clients")).toEqual([
      { site_code: "CHA", host_name: "cha-host" },
    ]);
  });

  test("licence counts: the newest day's win; a day's curve comes and goes with its peak", async () => {
    const figures = (installed: number): SummaryRecord => ({
      kind: "p",
      licenceId: "TOP-L1",
      values: [Date.parse(DAY), installed, 1, 2, 3, 4],
    });
    const curve: SummaryRecord = { kind: "k", licenceId: "TOP-L1", values: [1000, 2, 5000, 0] };
    let cha = A.init<Record<string, Uint8Array>>();
    cha = await apply("CHA", cha, (d) => {
      put(d, figures(7));
      put(d, curve);
    });
    const counts = "SELECT site_code, day, installed, used_users FROM licence_site_figures";
    expect(await rows(counts)).toEqual([
      { site_code: "CHA", day: DAY, installed: 7, used_users: 3 },
    ]);
    expect(await rows("SELECT site_code, day, points FROM licence_day_curves")).toEqual([
      { site_code: "CHA", day: DAY, points: "[1000,2,5000,0]" },
    ]);
    // A newer day's counts replace them; an older document's do not come back.
    const later = A.change(A.init<Record<string, Uint8Array>>(), (d) => put(d, figures(9)));
    await site.db.batch(
      summaryStatements("CHA", "2026-11-21", later, changedKeys(later, [])),
      "write",
    );
    cha = await apply("CHA", cha, (d) => put(d, figures(1)));
    expect(await rows(counts)).toEqual([
      { site_code: "CHA", day: "2026-11-21", installed: 9, used_users: 3 },
    ]);
    await site.db.execute(
      `INSERT INTO licence_day_peaks VALUES ('TOP-L1', '${DAY}', 2, 1000, 0)`,
    );
    await apply("CHA", cha, (d) => delete d[summaryKey(curve)]);
    expect(await rows("SELECT * FROM licence_day_curves")).toEqual([]);
    expect(await rows("SELECT * FROM licence_day_peaks")).toEqual([]);
  });

  test("a malformed licence record is refused, naming it, and stores nothing", async () => {
    const bad: [string, unknown][] = [
      ["p/TOP-L2", [0, -1, 0, 0, 0, 0]],
      ["p/TOP-L2", [0, 1, 2]],
      ["k/TOP-L2", [5000, 1, 1000, 0]],
      ["k/TOP-L2", [1000, 1, 2000]],
      ["k/TOP-L2", [86_400_000, 1]],
      ["k/TOP-L2", Array.from({ length: 200_002 }, (_, i) => (i % 2 ? 1 : i))],
      ["k/../x", [1000, 1]],
      ["p/TOP-2", [0, 1, 1, 1, 1, 1]],
    ];
    for (const [key, value] of bad) {
      const before = A.init<Record<string, Uint8Array>>();
      const doc = A.change(before, (d) => {
        d[key] = encode(value);
      });
      expect(
        () => summaryStatements("CHA", DAY, doc, changedKeys(doc, A.getHeads(before))),
        key,
      ).toThrow(key.slice(0, 7));
    }
    expect(await rows("SELECT * FROM licence_site_figures WHERE licence_id = 'TOP-L2'")).toEqual(
      [],
    );
  });
});
