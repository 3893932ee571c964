/**
 * Inventory end to end, with real processes and this machine's real package
 * database: a site and an agent on loopback; the site's `software` report
 * must list exactly the packages `dpkg-query` calls installed, with their
 * versions, and the desktop entries the desktop source reads. Then a small
 * `.deb` built by the test is installed with `dpkg -i`: it must reach the
 * site within a minute, its program's sessions must carry the package
 * version (so a rule's version glob picks it), and `dpkg -r` must remove it.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { readDesktopProducts } from "../agent/linux/inventory/desktop_source.ts";
import {
  buildDeb,
  canInstallDebs,
  dpkgQueryInstalled,
  installDeb,
  removeDeb,
} from "./helpers/local_deb.ts";
import { runProgram, uniqueName } from "./helpers/metered_program.ts";
import { type MeteredSite, startSiteWithAgent } from "./helpers/meter_process.ts";
import { addRule, api, sessions } from "./helpers/site_api.ts";
import { waitFor } from "./helpers/wait_for.ts";

interface SoftwareRow {
  clientId: string;
  product: string;
  version: string;
  publisher: string;
  source: string;
  installedAt: string | null;
  executables: string;
}

async function software(m: MeteredSite, query: Record<string, string>): Promise<SoftwareRow[]> {
  const params = new URLSearchParams({ limit: "100000", ...query });
  const response = await api(m.site.url, m.admin, "GET", `/v1/reports/software?${params}`);
  if (response.status !== 200) throw new Error(`${response.status} ${await response.text()}`);
  return (await response.json()).rows;
}

describe.skipIf(!canInstallDebs())("inventory of this machine end to end", () => {
  let m: MeteredSite;
  const packageName = uniqueName("mtest-tool");

  beforeAll(async () => {
    m = await startSiteWithAgent({ extra: ["--inventory-check", "1"] });
  });

  afterAll(async () => {
    await removeDeb(packageName).catch(() => {});
    await m?.stop();
  });

  test("the site lists the packages dpkg-query calls installed, with their versions", async () => {
    const expected = await dpkgQueryInstalled();
    const rows = await waitFor("the inventory to reach the site", async () => {
      const found = await software(m, { source: "dpkg" });
      return found.length === expected.size ? found : undefined;
    });
    const versions = new Map(rows.map((row) => [row.product, row.version]));
    for (const [qualified, version] of expected) {
      expect(versions.get(qualified.split(":")[0]), qualified).toBe(version);
    }
    const coreutils = rows.find((row) => row.product === "coreutils")!;
    expect(coreutils.executables.split(" ")).toContain("/usr/bin/sleep");
    expect(coreutils.publisher).toMatch(/@/);
  });

  test("the site lists the desktop entries the agent's desktop source reads", async () => {
    const local = await readDesktopProducts();
    const rows = await software(m, { source: "desktop" });
    expect(rows.map((row) => row.product).sort()).toEqual(
      local.products.map((product) => product.name).sort(),
    );
  });

  test("a package installed with dpkg -i appears, meters with its version, and goes with dpkg -r", async () => {
    const deb = await buildDeb(m.dir, packageName, "1.9.3-1");
    // Rules are matched in id order: the first needs version 2.*, which the package is not.
    const wrongVersion = await addRule(m.site.url, m.admin, {
      name: "Test tool 2",
      fileName: packageName,
      version: "2.*",
    });
    const rightVersion = await addRule(m.site.url, m.admin, {
      name: "Test tool 1.9",
      fileName: packageName,
      version: "1.9*",
    });
    await waitFor(
      "the agent to receive the rules",
      () => m.agent.logged("rules loaded").some((e) => e.rules === 2),
    );

    const installedAt = Date.now();
    await installDeb(deb);
    const [row] = await waitFor("the package to reach the site", async () => {
      const found = await software(m, { product: packageName });
      return found.length > 0 ? found : undefined;
    }, { timeoutMs: 60_000 });
    const delay = Date.now() - installedAt;
    expect(delay).toBeLessThan(60_000);
    expect(row).toMatchObject({
      product: packageName,
      version: "1.9.3-1",
      source: "dpkg",
      executables: deb.program,
      publisher: "Meter Tests <tests@meter.invalid>",
    });

    const run = runProgram(deb.program, 1);
    await run.ended;
    const [session] = await waitFor("the session to reach the site", async () => {
      const found = await sessions(m.site.url, m.admin, { client: row.clientId });
      const mine = found.filter((s) => s.exe === deb.program && s.end);
      return mine.length > 0 ? mine : undefined;
    });
    expect(session.version).toBe("1.9.3-1");
    expect(session.ruleId).toBe(rightVersion.id);
    expect(session.ruleId).not.toBe(wrongVersion.id);

    await removeDeb(packageName);
    await waitFor("the package to leave the site", async () => {
      const found = await software(m, { product: packageName });
      return found.length === 0;
    }, { timeoutMs: 60_000 });
  });
});
