/**
 * `meter usage` and times on the command line, against a real site whose
 * database holds 2,500 sessions a minute apart, 1,000 of them before
 * 2026-05-01 00:00 UTC: one page by default with the way to the next on
 * stderr, `--all` for every page, and times read as ISO dates and
 * date-times (UTC unless they carry an offset), plain numbers refused.
 * Also tables far longer than any argument list.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { join } from "node:path";
import { renderTable } from "../cli/output.ts";
import { openSiteDatabase } from "../site/site_db.ts";
import { tempDir } from "./helpers/metered_program.ts";
import { meter, STACK_FRAME } from "./helpers/meter_cli.ts";
import { type SiteHandle, startSite } from "./helpers/meter_process.ts";
import { addRule, makeToken } from "./helpers/site_api.ts";
import { sessionRowsStatements } from "./helpers/session_rows.ts";

const MAY_FIRST = Date.UTC(2026, 4, 1);
const SESSIONS = 2500;
const BEFORE_MAY = 1000;

/** Sessions a minute apart, 30 s long, the first BEFORE_MAY of them ending before May. */
async function seedSessions(file: string): Promise<void> {
  const db = await openSiteDatabase(file);
  const rows = Array.from({ length: SESSIONS }, (_, i) => {
    const start = MAY_FIRST + (i - BEFORE_MAY) * 60_000;
    return [`s${String(i).padStart(5, "0")}`, start, start + 30_000] as const;
  });
  const sessions = rows.map(([id, start, end]) => ({
    client: "c1",
    id,
    start,
    end,
    exe: "/usr/bin/vim",
    argv0: "vim",
    version: null,
  }));
  await db.batch(sessionRowsStatements(sessions), "write");
  db.close();
}

describe("meter usage: pages and times", () => {
  let temp: Awaited<ReturnType<typeof tempDir>>;
  let site: SiteHandle;
  let connect: string[];
  let env: Record<string, string>;
  let ruleId: string;

  beforeAll(async () => {
    temp = await tempDir();
    await seedSessions(join(temp.dir, "site-S01.db"));
    site = await startSite(temp.dir);
    connect = ["--site", site.url];
    env = { METER_TOKEN: await makeToken(site.db, "viewer") };
    const admin = await makeToken(site.db, "admin");
    ruleId = (await addRule(site.url, admin, { name: "Vim", fileName: "vim" })).id;
  });

  afterAll(async () => {
    await site?.process.stop();
    await temp?.remove();
  });

  const usage = (...args: string[]) => meter(["usage", ...connect, ...args], { env });
  const ids = (stdout: string) => JSON.parse(stdout).map((s: { id: string }) => s.id);

  test("one page by default, and on stderr the cursor of the next", async () => {
    const first = await usage("--format", "json");
    expect(first.code).toBe(0);
    expect(ids(first.stdout)).toHaveLength(1000);
    expect(ids(first.stdout)[0]).toBe("s00000");
    const cursor = /--cursor (\S+)/.exec(first.stderr)?.[1];
    expect(cursor, first.stderr).toBeDefined();

    const second = await usage("--format", "json", "--cursor", cursor!);
    expect(ids(second.stdout)[0]).toBe("s01000");
    expect(ids(second.stdout)).toHaveLength(1000);

    const table = await usage("--limit", "10");
    expect(table.stdout.trim().split("\n")).toHaveLength(11);
    expect(table.stderr).toContain("10 sessions shown, more follow");

    // A cursor is a place in the order: with a later --from, the rest from there.
    const rest = await usage(
      "--format",
      "json",
      "--cursor",
      cursor!,
      "--from",
      "2026-05-01T16:00Z",
    );
    expect(ids(rest.stdout)).toHaveLength(SESSIONS - BEFORE_MAY - 16 * 60);
    expect(rest.stderr).toBe("");
  });

  test("--all prints every page, as JSON or CSV", async () => {
    const json = await usage("--all", "--format", "json", "--limit", "700");
    expect(json.code).toBe(0);
    const all = ids(json.stdout);
    expect(all).toHaveLength(SESSIONS);
    expect(new Set(all).size).toBe(SESSIONS);
    expect(json.stderr).toBe("");

    const csv = await usage("--all", "--format", "csv");
    const lines = csv.stdout.trim().split("\r\n");
    expect(lines).toHaveLength(SESSIONS + 1);
    expect(lines[0]).toMatch(/^id,clientId,/);
    expect(lines.filter((line) => line.startsWith("id,"))).toHaveLength(1);

    const table = await usage("--all");
    expect(table.code).toBe(2);
    expect(table.stderr).toContain("--all is for --format json or csv");
  });

  test("dates are midnight UTC; date-times are UTC unless they carry an offset", async () => {
    for (const from of ["2026-05-01", "2026-05-01T00:00", "2026-05-01T02:00:00+02:00"]) {
      const result = await usage("--all", "--format", "json", "--from", from);
      expect(result.code, from).toBe(0);
      const sessions = ids(result.stdout);
      expect({ from, count: sessions.length, first: sessions[0] })
        .toEqual({ from, count: SESSIONS - BEFORE_MAY, first: "s01000" });
    }
    const to = await usage("--all", "--format", "json", "--to", "2026-04-30T23:00:00Z");
    expect(ids(to.stdout)).toHaveLength(BEFORE_MAY - 60);
  });

  test("anything else is refused, with what a time looks like", async () => {
    for (const from of ["2026", "1777593600000", "yesterday", "2026-02-30", "2026-05-01 08:00"]) {
      const result = await usage("--from", from);
      expect(result.code, from).toBe(2);
      expect(result.stderr).not.toMatch(STACK_FRAME);
      expect(result.stderr).toContain(`--from ${from} is not a time`);
      expect(result.stderr).toContain("2026-05-01 (midnight UTC)");
    }
    const report = ["report", "installed-not-run", ...connect, "--rule", ruleId];
    const refused = await meter([...report, "--since", "2026"], { env });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("--since 2026 is not a time");
    const since = new Date(Date.now() - 10 * 86_400_000).toISOString().slice(0, 10);
    const accepted = await meter([...report, "--since", since, "--format", "json"], { env });
    expect(accepted.stderr).toBe("");
    expect(JSON.parse(accepted.stdout).parameters.since).toBe(`${since}T00:00:00.000Z`);
  });
});

test("a table of 200,000 rows", () => {
  const rows = Array.from({ length: 200_000 }, (_, i) => ({ n: i, name: `row ${i}` }));
  const lines = renderTable(["n", "name"], rows).split("\n");
  expect(lines).toHaveLength(200_001);
  expect(lines[0]).toBe("n       name");
  expect(lines[200_000]).toBe("199999  row 199999");
});
