/**
 * `meter token` against a real site: in its database only when that
 * database exists (a token in a new one would be unknown to the running
 * site), which is how the first admin token is made; and over the API with
 * an admin token (`/v1/tokens`).
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { join } from "node:path";
import { tempDir } from "./helpers/metered_program.ts";
import { meter, STACK_FRAME } from "./helpers/meter_cli.ts";
import { type SiteHandle, startSite } from "./helpers/meter_process.ts";
import { api } from "./helpers/site_api.ts";

const exists = (path: string) => Deno.stat(path).then(() => true, () => false);

describe("meter token", () => {
  let temp: Awaited<ReturnType<typeof tempDir>>;
  let site: SiteHandle;
  /** The site's data folder, as `meter site --data-dir` was given it. */
  let dataDir: string;
  let adminFile: string;

  const rulesStatus = async (token: string) => {
    const response = await api(site.url, token, "GET", "/v1/rules");
    await response.body?.cancel();
    return response.status;
  };

  beforeAll(async () => {
    temp = await tempDir();
    dataDir = join(temp.dir, "data");
    await Deno.mkdir(dataDir);
    site = await startSite(dataDir);
  });

  afterAll(async () => {
    await site?.process.stop();
    await temp?.remove();
  });

  test("refuses to create a database, naming the path it looked at", async () => {
    const elsewhere = join(temp.dir, "elsewhere");
    await Deno.mkdir(elsewhere);
    const result = await meter(["token", "create", "--role", "admin"], { cwd: elsewhere });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).not.toMatch(STACK_FRAME);
    const line = result.stderr.trim();
    expect(line).toMatch(/^meter token: /);
    expect(line).toContain(`no site database at ${join(elsewhere, ".meter", "site-S01.db")}`);
    for (const way of ["--db", "--data-dir", "--code", "--site URL --token-file"]) {
      expect(line).toContain(way);
    }
    expect(await exists(join(elsewhere, ".meter"))).toBe(false);

    // The site's folder, but another code: that database does not exist either.
    const otherCode = await meter(["token", "list", "--data-dir", dataDir, "--code", "S02"]);
    expect(otherCode.code).toBe(1);
    expect(otherCode.stderr).toContain(`no site database at ${join(dataDir, "site-S02.db")}`);
    expect(await exists(join(dataDir, "site-S02.db"))).toBe(false);
  });

  test("the first admin token, in the site's existing database", async () => {
    const result = await meter(["token", "create", "--role", "admin", "--data-dir", dataDir]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const admin = result.stdout.trim();
    expect(await rulesStatus(admin)).toBe(200);
    adminFile = join(temp.dir, "admin.token");
    await Deno.writeTextFile(adminFile, `${admin}\n`, { mode: 0o600 });
  });

  test("list and revoke over the API", async () => {
    const connect = ["--site", site.url, "--token-file", adminFile];
    const local = await meter(["token", "create", "--role", "viewer", "--db", site.db, "--json"]);
    const viewer = JSON.parse(local.stdout);
    expect(await rulesStatus(viewer.token)).toBe(200);

    const listed = await meter(["token", "list", ...connect, "--json"]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).not.toContain(viewer.token);
    const ids = JSON.parse(listed.stdout).map((t: { id: string }) => t.id);
    expect(ids).toContain(viewer.id);

    // METER_SITE chooses the API as --site does, as for the other commands.
    const admin = (await Deno.readTextFile(adminFile)).trim();
    const viaEnv = await meter(["token", "list", "--json"], {
      cwd: temp.dir,
      env: { METER_SITE: site.url, METER_TOKEN: admin },
    });
    expect(viaEnv.stderr).toBe("");
    expect(JSON.parse(viaEnv.stdout).map((t: { id: string }) => t.id)).toContain(viewer.id);

    const revoked = await meter(["token", "revoke", viewer.id, ...connect]);
    expect(revoked.stdout.trim()).toBe(`revoked ${viewer.id}`);
    expect(await rulesStatus(viewer.token)).toBe(401);
    const again = await meter(["token", "revoke", "nosuchid", ...connect]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("HTTP 404");

    const both = await meter(["token", "list", ...connect, "--db", site.db]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("not both");
  });

  test("create over the API, every option in the body of POST /v1/tokens", async () => {
    const connect = ["--site", site.url, "--token-file", adminFile];
    const viewer = await meter(["token", "create", "--role", "viewer", ...connect]);
    expect(viewer.stderr).toBe("");
    expect(viewer.code).toBe(0);
    expect(await rulesStatus(viewer.stdout.trim())).toBe(200);

    const before = Date.now();
    const enroll = await meter([
      "token",
      "create",
      "--role",
      "enroll",
      "--uses",
      "5",
      "--label",
      "lab computers",
      "--expires-days",
      "3",
      "--json",
      ...connect,
    ]);
    expect(enroll.code).toBe(0);
    const created = JSON.parse(enroll.stdout);
    expect(created).toMatchObject({ role: "enroll", label: "lab computers", usesLeft: 5 });
    expect(created.token).toMatch(/^mtr_/);
    expect(created.expiresAt).toBeGreaterThanOrEqual(before + 3 * 86_400_000 - 60_000);
    expect(created.expiresAt).toBeLessThanOrEqual(Date.now() + 3 * 86_400_000 + 60_000);
  });
});
