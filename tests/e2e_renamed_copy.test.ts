/**
 * Rules that see through names: `originalFileName` matches the real
 * executable behind a symbolic link, and `sha256` catches a renamed copy of
 * an executable whatever it is called.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { copySleep, runProgram, uniqueName } from "./helpers/metered_program.ts";
import { type MeteredSite, startSiteWithAgent } from "./helpers/meter_process.ts";
import { addRule, sessions } from "./helpers/site_api.ts";
import { waitFor } from "./helpers/wait_for.ts";

describe("renamed and linked executables", () => {
  let m: MeteredSite;

  beforeAll(async () => {
    m = await startSiteWithAgent();
  });

  afterAll(() => m?.stop());

  test("originalFileName matches the executable behind a symbolic link", async () => {
    const real = uniqueName("mtest-real");
    const realPath = await copySleep(m.dir, real);
    const linkPath = join(m.dir, uniqueName("mtest-alias"));
    await Deno.symlink(realPath, linkPath);
    const rule = await addRule(m.site.url, m.admin, { name: "Linked", originalFileName: real });
    await waitFor(
      "the rule at the agent",
      () => m.agent.logged("rules loaded").some((e) => e.rules === 1),
    );
    const run = runProgram(linkPath, 2);
    await run.ended;
    const [session] = await waitFor("the linked run at the site", async () => {
      const rows = await sessions(m.site.url, m.admin, { rule: rule.id });
      return rows.length === 1 && rows[0].end ? rows : undefined;
    });
    expect(session.pid).toBe(run.pid);
    expect(session.exe).toBe(realPath);
    expect(session.argv0).toBe(linkPath);
  });

  test("sha256 catches a renamed copy", async () => {
    // A copy made unique by trailing bytes, so no other test's sleep matches it.
    const original = await copySleep(m.dir, uniqueName("mtest-hashed"));
    await Deno.writeFile(original, crypto.getRandomValues(new Uint8Array(64)), { append: true });
    const sha256 = createHash("sha256").update(await Deno.readFile(original)).digest("hex");
    const renamed = join(m.dir, uniqueName("mtest-renamed"));
    await Deno.copyFile(original, renamed);
    await Deno.chmod(renamed, 0o755);
    const rule = await addRule(m.site.url, m.admin, { name: "Hashed", sha256 });
    await waitFor(
      "the rule at the agent",
      () => m.agent.logged("rules loaded").some((e) => e.rules === 2),
    );
    const run = runProgram(renamed, 2);
    await run.ended;
    const rows = await waitFor("the renamed run at the site", async () => {
      const rows = await sessions(m.site.url, m.admin, { rule: rule.id });
      return rows.length === 1 && rows[0].end ? rows : undefined;
    });
    expect(rows[0].pid).toBe(run.pid);
    expect(rows[0].exe).toBe(renamed);
  });
});
