/**
 * The Windows installer, end to end under Wine: the MSI that
 * scripts/package/msi.ts builds installs silently with the site and the
 * enroll token file as properties, and starts the service MeterAgent, whose
 * agent enrols with a real site process on Linux and meters a Windows
 * program; `net stop` stops the agent cleanly; an agent that exits by itself
 * stops the service with an error; a newer MSI without the
 * properties replaces it and keeps them; uninstalling removes the program
 * and the service and keeps the agent's data.
 *
 * It runs in a Wine prefix of its own (tests/helpers/wine_msi.ts): a
 * service installed in the shared prefix would run during the other Windows
 * tests. The steps build on each other, in order.
 *
 * @module
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SiteHandle, startSite } from "./helpers/meter_process.ts";
import { addRule, makeToken, sessions } from "./helpers/site_api.ts";
import { skipReason, WINDOWS_TEST_TOOLS, WIXL } from "./helpers/system_tools.ts";
import { waitFor } from "./helpers/wait_for.ts";
import { buildMeteredTool } from "./helpers/windows_metered_tool.ts";
import { runWindowsProgram, windowsPath, type WineEnvironment } from "./helpers/wine.ts";
import {
  cachedMsi,
  holdMsiTestLock,
  installedMarker,
  msiTestDir,
  prepareMsiPrefix,
  stopMsiPrefix,
} from "./helpers/wine_msi.ts";
import type { Rule } from "../model/rule.ts";

const skipped = skipReason([...WINDOWS_TEST_TOOLS, WIXL]);

/** The two versions: the second is the upgrade. */
const FIRST = "0.0.1";
const SECOND = "0.0.2";

interface LogEntry {
  msg?: string;
  detail?: string;
  service?: string;
  [key: string]: unknown;
}

interface ServiceState {
  state: string;
  win32ExitCode: number;
  serviceExitCode: number;
}

describe.skipIf(skipped !== "")(`the Windows installer, under Wine${skipped}`, () => {
  let dir: string;
  let lock: Deno.FsFile;
  let wine: WineEnvironment;
  let msi: Record<string, string>;
  let temp: string;
  let site: SiteHandle;
  let admin: string;
  let rule: Rule;
  let installedOnce = false;

  const programFiles = () => join(wine.prefix, "drive_c/Program Files/Meter");
  const dataDir = () => join(wine.prefix, "drive_c/ProgramData/Meter");

  /** Runs a Windows program (msiexec, net, sc, ...) to its end. */
  async function windows(program: string, args: string[]) {
    const output = await runWindowsProgram(wine, program, args).output();
    const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
    return { code: output.code, out: text(output.stdout), err: text(output.stderr) };
  }

  async function mustRun(program: string, args: string[]): Promise<string> {
    const result = await windows(program, args);
    if (result.code !== 0) {
      throw new Error(
        `${program} ${args.join(" ")}: exit code ${result.code}\n${result.out}${result.err}`,
      );
    }
    return result.out;
  }

  /** msiexec with a verbose log in the test's folder, shown when it fails. */
  async function msiexec(args: string[], name: string): Promise<void> {
    const log = join(dir, `${name}.log`);
    const result = await windows("msiexec", [...args, "/qn", "/l*v", windowsPath(log)]);
    if (result.code !== 0) {
      const text = await Deno.readTextFile(log).catch(() => "");
      throw new Error(`msiexec ${args.join(" ")}: exit code ${result.code}\n${text.slice(-4000)}`);
    }
  }

  /**
   * The settings the installer wrote. Waited for: once in a few runs Wine's
   * reg.exe exited 1 with no output right after an install that had written them.
   */
  async function settings(): Promise<string> {
    return await waitFor(
      "reg query HKLM\\SOFTWARE\\Meter\\Agent",
      () => mustRun("reg", ["query", "HKLM\\SOFTWARE\\Meter\\Agent"]),
      { timeoutMs: 10_000 },
    );
  }

  /** The service as `sc query` tells it, or undefined when there is no such service. */
  async function service(): Promise<ServiceState | undefined> {
    const result = await windows("sc", ["query", "MeterAgent"]);
    const state = /STATE\s*:\s*\d+\s+(\w+)/.exec(result.out)?.[1];
    if (state === undefined) return undefined;
    return {
      state,
      win32ExitCode: Number(/WIN32_EXIT_CODE\s*:\s*(\d+)/.exec(result.out)?.[1]),
      serviceExitCode: Number(/SERVICE_EXIT_CODE\s*:\s*(\d+)/.exec(result.out)?.[1]),
    };
  }

  /** The JSON lines of agent.log: the agent's and the service host's. */
  async function agentLog(): Promise<LogEntry[]> {
    const text = await Deno.readTextFile(join(dataDir(), "agent.log")).catch(() => "");
    return text.split(/\r?\n/).flatMap((line) => {
      try {
        return [JSON.parse(line) as LogEntry];
      } catch {
        return [];
      }
    });
  }

  async function logged(msg: string): Promise<LogEntry[]> {
    return (await agentLog()).filter((entry) => entry.msg === msg);
  }

  async function logTail(): Promise<string> {
    const text = await Deno.readTextFile(join(dataDir(), "agent.log")).catch(() => "");
    return text.split("\n").slice(-30).join("\n");
  }

  /** Waits for the service to run, and its agent to have started and loaded the rule `times` times. */
  async function waitForAgent(times: number): Promise<void> {
    await waitFor(`the service to run\n${await logTail()}`, async () => {
      const state = await service();
      if (state?.state === "STOPPED") throw new Error(`stopped: ${JSON.stringify(state)}`);
      return state?.state === "RUNNING";
    }, { timeoutMs: 60_000 });
    // Both lines, in either order: the agent loads rules it kept as it starts.
    await waitFor("the agent to start and load the rule", async () => {
      const started = (await logged("agent started")).length;
      const loaded = (await logged("rules loaded")).filter((entry) => entry.rules === 1).length;
      return started >= times && loaded >= times;
    }, { timeoutMs: 120_000 }).catch(async (error) => {
      throw new Error(`${error.message}\n${await logTail()}`);
    });
  }

  beforeAll(async () => {
    dir = await msiTestDir();
    lock = await holdMsiTestLock(dir);
    msi = { [FIRST]: await cachedMsi(dir, FIRST), [SECOND]: await cachedMsi(dir, SECOND) };
    wine = await prepareMsiPrefix(dir);
    // Data of an earlier run: this one must enrol anew.
    await Deno.remove(dataDir(), { recursive: true }).catch(() => {});
    temp = await Deno.makeTempDir({ prefix: "meter-msi-test-" });
    site = await startSite(temp);
    admin = await makeToken(site.db, "admin");
    // The token file on drive C:, as an administrator would leave it for the install.
    const tokenDir = join(wine.prefix, "drive_c/Meter Setup");
    await Deno.mkdir(tokenDir, { recursive: true });
    await Deno.writeTextFile(join(tokenDir, "enroll.token"), await makeToken(site.db, "enroll"));
    // Before the agent starts: it loads rules when it enrols, then once a minute.
    rule = await addRule(site.url, admin, { name: "CAD Tool", originalFileName: "cadtool.exe" });
    const tools = join(wine.prefix, "drive_c/Tools");
    await Deno.mkdir(tools, { recursive: true });
    await Deno.copyFile(await buildMeteredTool(wine), join(tools, "msicad.exe"));
  }, 600_000);

  afterAll(async () => {
    if (wine && installedOnce && await Deno.stat(installedMarker(dir)).catch(() => null)) {
      // A failed step: leave no running agent behind (the next run makes a new prefix).
      await windows("net", ["stop", "MeterAgent"]).catch(() => {});
    }
    if (wine) await stopMsiPrefix(wine);
    await site?.process.stop();
    if (temp) await Deno.remove(temp, { recursive: true }).catch(() => {});
    lock?.close();
  }, 120_000);

  it("installs silently and starts the service, whose agent enrols with the site", async () => {
    await Deno.writeTextFile(installedMarker(dir), "");
    installedOnce = true;
    await msiexec([
      "/i",
      windowsPath(msi[FIRST]),
      `SITE_URL=${site.url}`,
      "ENROLL_TOKEN_FILE=C:\\Meter Setup\\enroll.token",
    ], "install");
    for (const file of ["meter_service.exe", "deno.exe", "app/main.ts", "app/deno.json"]) {
      expect((await Deno.stat(join(programFiles(), file))).isFile, file).toBe(true);
    }
    // The prefix's stand-in DLL is test setup; the product does without it.
    const shipped: string[] = [];
    for await (const entry of Deno.readDir(programFiles())) shipped.push(entry.name);
    expect(shipped.sort()).toEqual(["app", "deno.exe", "meter_service.exe"]);
    const written = await settings();
    expect(written).toContain(site.url);

    await waitForAgent(1);
    // What the uninstall must end, seen here so that its absence later means something.
    expect((await programProcesses()).sort()).toEqual(EXECUTABLES);
    const [started] = await logged("agent started");
    expect(String(started.db).toLowerCase()).toBe("c:\\programdata\\meter\\agent.db");
    expect(started.site).toBe(site.url);
    expect(await logged("agent enrolled")).toHaveLength(1);
    const [command] = await logged("starting the agent");
    expect(command.detail).toContain('"--enroll-token-file" "C:\\Meter Setup\\enroll.token"');
  });

  it("meters a Windows program", async () => {
    await mustRun(join(wine.prefix, "drive_c/Tools/msicad.exe"), ["2"]);
    const [session] = await waitFor(`the run at the site\n${await logTail()}`, async () => {
      const rows = await sessions(site.url, admin, { rule: rule.id });
      return rows.length === 1 && rows[0].end ? rows : undefined;
    }, { timeoutMs: 60_000 });
    expect(session.exe).toBe("C:\\Tools\\msicad.exe");
    expect(session.version).toBe("24.1.0.7");
  });

  it("stops the agent cleanly on net stop", async () => {
    await mustRun("net", ["stop", "MeterAgent"]);
    expect(await service()).toEqual({ state: "STOPPED", win32ExitCode: 0, serviceExitCode: 0 });
    expect(await logged("agent stopped")).toHaveLength(1);
    const stops = await logged("service stopped");
    expect(stops.map((entry) => entry.detail)).toEqual(["exit code 0"]);
    expect(await logged("the agent did not stop in time; ending it")).toEqual([]);
  });

  it("stops with an error when the agent exits by itself, so that recovery restarts it", async () => {
    const setSite = (url: string) =>
      mustRun("reg", ["add", "HKLM\\SOFTWARE\\Meter\\Agent", "/v", "SiteUrl", "/d", url, "/f"]);
    await setSite("not a url");
    try {
      await mustRun("net", ["start", "MeterAgent"]);
      const state = await waitFor("the service to stop", async () => {
        const state = await service();
        return state?.state === "STOPPED" ? state : undefined;
      }, { timeoutMs: 60_000 });
      // ERROR_SERVICE_SPECIFIC_ERROR, with the agent's exit code.
      expect(state.win32ExitCode).toBe(1066);
      expect(state.serviceExitCode).not.toBe(0);
      const [exited] = await logged("the agent exited by itself");
      expect(exited.detail).toBe(`exit code ${state.serviceExitCode}`);
    } finally {
      await setSite(site.url);
    }
  });

  it("is replaced by a newer version without the properties, and keeps them", async () => {
    await msiexec(["/i", windowsPath(msi[SECOND])], "upgrade");
    const written = await settings();
    expect(written).toContain(site.url);
    expect(written).toContain("C:\\Meter Setup\\enroll.token");
    // The new version's service runs the agent again, with the same enrolment.
    await waitForAgent(2);
    const starts = await logged("agent started");
    expect(starts).toHaveLength(2);
    const enrolled = await logged("agent enrolled");
    expect(enrolled).toHaveLength(1);
    expect(starts[1].clientId).toBe(enrolled[0].clientId);
  });

  it("uninstalls: stops the service cleanly, removes it and the program, keeps the data", async () => {
    await msiexec(["/x", windowsPath(msi[SECOND])], "uninstall");
    await Deno.remove(installedMarker(dir));
    expect(await service()).toBeUndefined();
    // The uninstall's stop ended both processes of the program.
    await waitFor(
      "the program's processes to end",
      async () => (await programProcesses()).length === 0,
      {
        timeoutMs: 30_000,
      },
    );
    // Every file of the program is gone, but for one difference of Wine's. Windows Installer waits
    // for the service to stop before it removes files (Wait="yes"); Wine 8.0's StopServices only
    // sends the stop (a +msi,+service trace shows ControlService, then DeleteFileW at once). So on a
    // loaded machine the two executables are still running when they are to be removed, and stay.
    // Under a loaded Wine the folder itself is sometimes left, empty, for the same reason.
    const left = await filesUnder(programFiles());
    expect(left.filter((file) => !EXECUTABLES.includes(file))).toEqual([]);
    expect((await windows("reg", ["query", "HKLM\\SOFTWARE\\Meter\\Agent"])).code).not.toBe(0);
    expect((await Deno.stat(join(dataDir(), "agent.db"))).isFile).toBe(true);
    // The uninstall stopped the running agent as net stop does.
    expect(await logged("agent stopped")).toHaveLength(2);
    const stops = await logged("service stopped");
    expect(stops.map((entry) => entry.detail)).toEqual(["exit code 0", "exit code 0"]);
  });
});

/** The program's two executables: the service host and the runtime it starts. */
const EXECUTABLES = ["deno.exe", "meter_service.exe"];

/**
 * The executables of the installed program that are running, one name per process. Wine shows a
 * Windows process's own command line in /proc, so a Linux listing finds them.
 */
async function programProcesses(): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const line = await Deno.readTextFile(`/proc/${entry.name}/cmdline`).catch(() => "");
    const program = /^"?[a-z]:\\program files\\meter\\([^"\\\0]+\.exe)/i.exec(line)?.[1];
    if (program) names.push(program.toLowerCase());
  }
  return names;
}

/** The files under `dir` (none when it does not exist), as paths relative to it. */
async function filesUnder(dir: string): Promise<string[]> {
  const files: string[] = [];
  const walk = async (path: string, prefix: string) => {
    for await (const entry of Deno.readDir(path)) {
      if (entry.isDirectory) await walk(join(path, entry.name), `${prefix}${entry.name}/`);
      else files.push(`${prefix}${entry.name}`);
    }
  };
  await walk(dir, "").catch((error) => {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  });
  return files;
}
