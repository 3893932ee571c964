/**
 * The agent on Windows, end to end: the Windows Deno under Wine runs the
 * agent from the project's source against a real site process on Linux,
 * over loopback. A rule with Configuration Manager's meaning (the version
 * resource's original name, file version and language) meters a renamed
 * copy of a Windows console program; the session reaches the site with the
 * Windows user, version and language; an uninstall entry added to the
 * registry reaches the site's `software` report; and Ctrl-C stops the
 * agent cleanly.
 *
 * @module
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MeterProcess, type SiteHandle, startSite } from "./helpers/meter_process.ts";
import { addRule, api, makeToken, sessions } from "./helpers/site_api.ts";
import { skipReason, WINDOWS_TEST_TOOLS } from "./helpers/system_tools.ts";
import { waitFor } from "./helpers/wait_for.ts";
import { buildMeteredTool } from "./helpers/windows_metered_tool.ts";
import {
  prepareWine,
  runWindowsDeno,
  runWindowsProgram,
  stopWine,
  windowsPath,
  type WineEnvironment,
} from "./helpers/wine.ts";
import type { Rule } from "../model/rule.ts";

const skipped = skipReason(WINDOWS_TEST_TOOLS);

const UNINSTALL_KEY = "HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\MeterTestCad";

describe.skipIf(skipped !== "")(`the agent on Windows, under Wine${skipped}`, () => {
  let wine: WineEnvironment;
  let dir: string;
  let site: SiteHandle;
  let admin: string;
  let agent: MeterProcess;
  let rule: Rule;
  /** The renamed copy of the metered tool, inside the prefix's drive C:. */
  let renamed: string;

  /**
   * The sessions of `rule` from this test's renamed copy: the other Windows
   * test files run copies of the same program in the same prefix, and the
   * agent rightly meters those too.
   */
  async function renamedRuns(rule: Rule) {
    const rows = await sessions(site.url, admin, { rule: rule.id });
    return rows.filter((row) => row.exe === "C:\\Tools\\mycad.exe");
  }

  /** Runs a Windows program to its end; fails on a non-zero exit. */
  async function runToEnd(program: string, args: string[]): Promise<void> {
    const output = await runWindowsProgram(wine, program, args).output();
    if (!output.success) {
      throw new Error(`${program} ${args.join(" ")}: ${new TextDecoder().decode(output.stderr)}`);
    }
  }

  beforeAll(async () => {
    wine = await prepareWine();
    dir = await Deno.makeTempDir({ prefix: "meter-windows-e2e-" });
    // The agent's default data folder, %ProgramData%\Meter: empty, so it enrols here.
    await Deno.remove(join(wine.prefix, "drive_c/ProgramData/Meter"), { recursive: true })
      .catch(() => {});
    await runToEnd(wine.wine, ["reg", "delete", UNINSTALL_KEY, "/f"]).catch(() => {});
    const tools = join(wine.prefix, "drive_c/Tools");
    await Deno.mkdir(tools, { recursive: true });
    renamed = join(tools, "mycad.exe");
    await Deno.copyFile(await buildMeteredTool(wine), renamed);
    site = await startSite(dir);
    admin = await makeToken(site.db, "admin");
    const enrollFile = join(dir, "enroll.token");
    await Deno.writeTextFile(enrollFile, await makeToken(site.db, "enroll"));
    rule = await addRule(site.url, admin, {
      name: "CAD Tool",
      originalFileName: "cadtool.exe",
      version: "24.*",
      language: "1031",
    });
    const args = [
      "agent",
      "--site",
      site.url,
      "--enroll-token-file",
      windowsPath(enrollFile),
      "--poll",
      "0.2",
      "--sync-delay",
      "0.2",
      "--interval",
      "2",
      "--inventory-check",
      "1",
    ];
    agent = new MeterProcess(
      args,
      {},
      (meterArgs, env) => runWindowsDeno(wine, ["run", "-A", "main.ts", ...meterArgs], { env }),
    );
    await waitFor(
      `the Windows agent to load the rule\n${agent.tail()}`,
      () => {
        if (agent.exited) throw new Error(`the agent exited:\n${agent.tail()}`);
        return agent.logged("rules loaded").some((entry) => entry.rules === 1);
      },
      { timeoutMs: 120_000 },
    );
  }, 600_000);

  afterAll(async () => {
    await agent?.kill();
    await site?.process.stop();
    if (wine) {
      await runToEnd(wine.wine, ["reg", "delete", UNINSTALL_KEY, "/f"]).catch(() => {});
      await stopWine(wine);
    }
    if (dir) await Deno.remove(dir, { recursive: true }).catch(() => {});
  });

  it("keeps its database in %ProgramData%\\Meter", async () => {
    const started = agent.logged("agent started")[0];
    expect(String(started.db).toLowerCase()).toBe("c:\\programdata\\meter\\agent.db");
    const stat = await Deno.stat(join(wine.prefix, "drive_c/ProgramData/Meter/agent.db"));
    expect(stat.isFile).toBe(true);
  });

  it("meters a renamed copy by its original name, with user, version and language", async () => {
    await runToEnd(renamed, ["2"]);
    let seen: unknown[] = [];
    const [session] = await waitFor(`the Windows run at the site\n${agent.tail()}`, async () => {
      const rows = await renamedRuns(rule);
      seen = rows;
      return rows.length === 1 && rows[0].end ? rows : undefined;
    }, { timeoutMs: 60_000 }).catch((error) => {
      throw new Error(`${error.message}\nthe site had: ${JSON.stringify(seen)}`);
    });
    expect(session.exe).toBe("C:\\Tools\\mycad.exe");
    expect(session.user).toMatch(/^[^\\]+\\[^\\]+$/);
    expect(session.version).toBe("24.1.0.7");
    expect(session.language).toBe("de-DE");
    expect(session.remote).toBe(false);
    const seconds = (Date.parse(session.end!) - Date.parse(session.start)) / 1000;
    expect(seconds).toBeGreaterThan(1);
    expect(seconds).toBeLessThan(5);
  });

  it("does not meter a program whose resource has another language", async () => {
    const english = await addRule(site.url, admin, {
      name: "CAD Tool (English)",
      originalFileName: "cadtool.exe",
      language: "en-US",
    });
    await waitFor(
      "the second rule at the agent",
      () => agent.logged("rules loaded").some((entry) => entry.rules === 2),
    );
    await runToEnd(renamed, ["1"]);
    await waitFor("the German rule's second session", async () => {
      const rows = await renamedRuns(rule);
      return rows.length === 2 && rows.every((row) => row.end) ? rows : undefined;
    }, { timeoutMs: 60_000 });
    expect(await renamedRuns(english)).toEqual([]);
  });

  it("lists an uninstall entry added to the registry in the software report", async () => {
    // Written in one import, as an installer writes its entry.
    const entry = join(dir, "cad.reg");
    await Deno.writeTextFile(
      entry,
      [
        "REGEDIT4",
        "",
        `[${UNINSTALL_KEY.replace("HKLM", "HKEY_LOCAL_MACHINE")}]`,
        `"DisplayName"="Meter Test CAD"`,
        `"DisplayVersion"="24.1"`,
        `"Publisher"="Meter Test"`,
        `"InstallDate"="20261201"`,
        `"InstallLocation"="C:\\\\Tools"`,
        "",
      ].join("\r\n"),
    );
    await runToEnd(wine.wine, ["reg", "import", windowsPath(entry)]);
    let seen: unknown[] = [];
    const [row] = await waitFor(`the product at the site\n${agent.tail()}`, async () => {
      const response = await api(
        site.url,
        admin,
        "GET",
        "/v1/reports/software?source=registry&limit=1000",
      );
      if (!response.ok) throw new Error(`${response.status} ${await response.text()}`);
      const rows = (await response.json()).rows as Record<string, unknown>[];
      seen = rows;
      const found = rows.filter((r) => r.product === "Meter Test CAD");
      return found.length === 1 && String(found[0].executables).includes("mycad.exe")
        ? found
        : undefined;
    }, { timeoutMs: 60_000 }).catch((error) => {
      throw new Error(`${error.message}\nthe report had: ${JSON.stringify(seen)}`);
    });
    expect(row.version).toBe("24.1");
    expect(row.publisher).toBe("Meter Test");
    expect(row.installedAt, JSON.stringify(row)).toMatch(/^2026-12-01/);
  });

  it("stops cleanly on Ctrl-C", async () => {
    await agent.stop("SIGINT");
    expect(agent.logged("agent stopped")).toHaveLength(1);
    expect((await agent.status).code).toBe(0);
  });
});
