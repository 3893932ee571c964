/**
 * The Debian package, as an administrator meets it: `deno task package`
 * builds it, `dpkg -i` installs it, the site and the agent run exactly as
 * their units' `ExecStart` lines say (user, capabilities, environment; the
 * machine's init is not systemd here), the agent meters another user's
 * program, an upgrade to a newer build keeps the data, the settings and the
 * agent's credential (its enroll token file removed meanwhile), `apt-get
 * remove` keeps data and settings, and `purge` removes them.
 *
 * It installs a real package on this machine, so it runs only as root where
 * dpkg is, and not where a `meter` package is already installed.
 *
 * @module
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MeterProcess } from "./helpers/meter_process.ts";
import { api, sessions } from "./helpers/site_api.ts";
import { canInstallDebs, dpkg } from "./helpers/local_deb.ts";
import { copySleep, runProgram, tempDir, uniqueName } from "./helpers/metered_program.ts";
import { addUser, removeUser, type SystemUser } from "./helpers/system_users.ts";
import { parseService, serviceCommand } from "./helpers/unit_file.ts";
import { waitFor } from "./helpers/wait_for.ts";
import { threadStates } from "./helpers/thread_states.ts";
import { skipReason, SYSTEMD_ANALYZE } from "./helpers/system_tools.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const UNITS = "/lib/systemd/system";

function meterInstalled(): boolean {
  const output = new Deno.Command("dpkg-query", { args: ["-W", "meter"], stderr: "null" })
    .outputSync();
  return output.success;
}

const skipped = !canInstallDebs()
  ? " (skipped: needs root and dpkg)"
  : skipReason([SYSTEMD_ANALYZE]) !== ""
  ? skipReason([SYSTEMD_ANALYZE])
  : meterInstalled()
  ? " (skipped: a meter package is installed on this machine)"
  : "";

async function run(command: string, args: string[], env: Record<string, string> = {}) {
  const output = await new Deno.Command(command, {
    args,
    env: { DEBIAN_FRONTEND: "noninteractive", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const [stdout, stderr] = [output.stdout, output.stderr].map((b) => new TextDecoder().decode(b));
  return { code: output.code, stdout, stderr };
}

async function buildPackage(version: string, out: string): Promise<string> {
  const result = await run(Deno.execPath(), [
    "run",
    "-A",
    join(ROOT, "scripts/package.ts"),
    "--only",
    "deb",
    "--no-compile",
    "--version",
    version,
    "--out",
    out,
  ]);
  if (result.code !== 0) throw new Error(`package failed:\n${result.stderr}`);
  return result.stdout.trim();
}

/** Starts the unit's `ExecStart` as the unit would; its logs go to the handle. */
async function startUnit(unit: string): Promise<MeterProcess> {
  const service = parseService(await Deno.readTextFile(join(UNITS, unit)));
  const { command, args, cwd } = serviceCommand(service);
  return new MeterProcess(
    [],
    {},
    () => new Deno.Command(command, { args, cwd, stdout: "piped", stderr: "piped" }).spawn(),
  );
}

/** Runs `meter ARGS` as the site's user, as `sudo -u meter meter ARGS` would. */
async function asSiteUser(args: string[]) {
  const user = ["--reuid=meter", "--regid=meter", "--init-groups"];
  return await run("setpriv", [...user, "meter", ...args], { HOME: "/var/lib/meter/site" });
}

/** Edits an installed settings file as an administrator would (a JSON key's value). */
async function setKey(file: string, key: string, value: unknown): Promise<void> {
  const text = await Deno.readTextFile(file);
  const line = new RegExp(`^(\\s*)(// )?"${key}": .*?(,?)$`, "m");
  if (!line.test(text)) throw new Error(`${file} has no line for ${key}`);
  await Deno.writeTextFile(
    file,
    text.replace(
      line,
      // A key uncommented gains a comma; a set one keeps its own (the last key has none).
      (_, indent, comment, comma) =>
        `${indent}"${key}": ${JSON.stringify(value)}${comment ? "," : comma}`,
    ),
  );
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

describe.skipIf(skipped !== "")(`the Debian package${skipped}`, () => {
  let temp: Awaited<ReturnType<typeof tempDir>>;
  let first: string;
  let second: string;
  let user: SystemUser;
  let program: string;
  let siteUrl: string;
  let admin: string;
  const running: MeterProcess[] = [];

  beforeAll(async () => {
    temp = await tempDir("meter-deb-");
    first = await buildPackage("0.1.0", join(temp.dir, "dist1"));
    second = await buildPackage("0.1.1~test", join(temp.dir, "dist2"));
    user = await addUser(uniqueName("mdeb").replace(/-/g, ""));
    // The program lives in the user's own 0700 folder, as in a home directory.
    const home = join(temp.dir, "home");
    await Deno.mkdir(home, { mode: 0o700 });
    program = await copySleep(home, uniqueName("mtest-debapp"));
    await Deno.chown(home, user.uid, user.gid);
  }, 600_000);

  afterAll(async () => {
    for (const process of running) await process.stop();
    if (!skipped && meterInstalled()) await dpkg(["--purge", "meter"]).catch(() => {});
    if (user) await removeUser(user.name);
    await temp?.remove();
  });

  async function startBoth(): Promise<{ site: MeterProcess; agent: MeterProcess }> {
    const site = await startUnit("meter-site.service");
    running.push(site);
    await waitFor(`the packaged site to answer\n${site.tail()}`, async () => {
      if (site.exited) throw new Error(`the site exited:\n${site.tail()}`);
      return (await fetch(`${siteUrl}/v1/health`).catch(() => undefined))?.ok;
    }, { timeoutMs: 60_000 });
    const agent = await startUnit("meter-agent.service");
    running.push(agent);
    return { site, agent };
  }

  /** Runs the program as the test user until the site holds its session; returns it. */
  async function meterOneRun(agent: MeterProcess) {
    const before = (await sessions(siteUrl, admin)).length;
    const run = runProgram(program, 2, { user });
    await run.ended;
    try {
      // Long: the CI runs this beside the whole suite, on two cores.
      return await waitFor("the run to reach the site", async () => {
        if (agent.exited) throw new Error(`the agent exited:\n${agent.tail()}`);
        const rows = await sessions(siteUrl, admin);
        return rows.length > before && rows.every((row) => row.end !== null) ? rows : undefined;
      }, { timeoutMs: 150_000 });
    } catch (error) {
      // Once, loaded, the packaged agent logged nothing for a minute: say where it waits.
      throw new Error(`${(error as Error).message}\n${agent.tail()}\n${threadStates(agent.pid)}`);
    }
  }

  it("installs with its user, folders, settings and units", async () => {
    await dpkg(["-i", first]);
    expect((await run("meter", ["--version"])).stdout.trim()).toBe("0.1.0");
    expect((await run("id", ["-u", "meter"])).code).toBe(0);
    const site = await Deno.stat("/var/lib/meter/site");
    expect(site.mode! & 0o777).toBe(0o700);
    expect(site.uid).toBe(Number((await run("id", ["-u", "meter"])).stdout));
    expect((await Deno.stat("/var/lib/meter/agent")).mode! & 0o777).toBe(0o700);
    expect((await Deno.stat("/etc/meter/site.json")).mode! & 0o777).toBe(0o640);
    const verify = await run("systemd-analyze", [
      "verify",
      join(UNITS, "meter-agent.service"),
      join(UNITS, "meter-site.service"),
    ]);
    expect(verify.stderr + verify.stdout).toBe("");
    expect(verify.code).toBe(0);
    const size = (await Deno.stat(first)).size;
    expect(size).toBeLessThan(60 * 1024 * 1024);
  });

  it(
    "runs the site as its user and the agent with its capabilities, metering another user's program",
    async () => {
      const port = freePort();
      siteUrl = `http://127.0.0.1:${port}`;
      await setKey("/etc/meter/site.json", "port", port);
      await setKey("/etc/meter/site.json", "hostname", "127.0.0.1");
      const { site, agent } = await startBoth();
      // The first admin token, made in the running site's database as its user, as the docs say.
      const token = await asSiteUser([
        "token",
        "create",
        "--role",
        "admin",
        "--config",
        "/etc/meter/site.json",
      ]);
      expect(token.code, token.stderr).toBe(0);
      admin = token.stdout.trim().split(/\s+/).at(-1)!;
      expect(site.exited).toBe(false);
      // The agent has no enrolment and no site yet: it fails, as a service would, and says why.
      const status = await agent.status;
      expect(status.success).toBe(false);
      expect(agent.tail()).toMatch(/meter-site\.example|enroll/);

      const enroll = await api(siteUrl, admin, "POST", "/v1/tokens", { role: "enroll" });
      expect(enroll.status).toBe(201);
      await Deno.writeTextFile("/etc/meter/enroll-token", (await enroll.json()).token, {
        mode: 0o600,
      });
      await setKey("/etc/meter/agent.json", "site", siteUrl);
      await setKey("/etc/meter/agent.json", "pollSeconds", 0.2);
      await setKey("/etc/meter/agent.json", "syncDelaySeconds", 0.2);
      await setKey("/etc/meter/agent.json", "syncIntervalSeconds", 2);
      // Debug lines say where a slow first sync spends its time, should this test fail.
      await setKey("/etc/meter/agent.json", "logLevel", "debug");
      const rule = await api(siteUrl, admin, "POST", "/v1/rules", {
        name: "packaged",
        fileName: program.split("/").at(-1),
      });
      expect(rule.status).toBe(201);
      const started = await startUnit("meter-agent.service");
      running.push(started);
      const rows = await meterOneRun(started);
      expect(rows).toHaveLength(1);
      // Its path, read through /proc/PID/exe of another user's process: CAP_SYS_PTRACE.
      expect(rows[0].exe).toBe(program);
      // The unit's capabilities let it take process events (CAP_NET_ADMIN), at a raised
      // priority for the thread that reads them (CAP_SYS_NICE).
      const [source] = started.logged("process source: kernel process events, with /proc scans");
      expect(source?.raisedPriority).toBe(true);
      expect(rows[0].user).toBe(user.name);
      const agentDb = await Deno.stat("/var/lib/meter/agent/agent.db");
      expect(agentDb.mode! & 0o777).toBe(0o600);
      // A backup of the running site, as the docs say: its user, its settings file.
      const backup = await asSiteUser([
        "site",
        "backup",
        "--config",
        "/etc/meter/site.json",
        "--to",
        "/var/lib/meter/site/backup.db",
      ]);
      expect(backup.code, backup.stderr).toBe(0);
      expect(backup.stdout).toMatch(/backed up .* 1 session,/);
      await started.stop();
      expect((await started.status).code).toBe(0);
      await site.stop();
      expect((await site.status).code).toBe(0);
    },
    240_000,
  );

  it("upgrades to a newer build keeping data, settings and the credential", async () => {
    const before = await sessions(siteUrl, admin).catch(() => undefined);
    expect(before).toBeUndefined(); // stopped, as dpkg finds it between stop and restart
    await Deno.remove("/etc/meter/enroll-token");
    await dpkg(["-i", "--force-confold", second]);
    expect((await run("meter", ["--version"])).stdout.trim()).toBe("0.1.1~test");
    expect(await Deno.readTextFile("/etc/meter/agent.json")).toContain(siteUrl);
    const { agent } = await startBoth();
    const rows = await meterOneRun(agent);
    expect(rows).toHaveLength(2);
    expect(new Set(rows.map((row) => row.clientId)).size).toBe(1);
    expect(agent.logged("agent enrolled")).toEqual([]);
  }, 240_000);

  it("keeps data and settings on remove, and deletes them on purge", async () => {
    for (const process of running) await process.stop();
    const remove = await run("apt-get", ["remove", "-y", "-o", "DPkg::Lock::Timeout=120", "meter"]);
    expect(remove.code, remove.stderr).toBe(0);
    expect(await exists("/usr/bin/meter")).toBe(false);
    expect(await exists("/var/lib/meter/site/site-S01.db")).toBe(true);
    expect(await exists("/var/lib/meter/agent/agent.db")).toBe(true);
    expect(await exists("/etc/meter/agent.json")).toBe(true);
    const purge = await run("apt-get", ["purge", "-y", "-o", "DPkg::Lock::Timeout=120", "meter"]);
    expect(purge.code, purge.stderr).toBe(0);
    expect(await exists("/var/lib/meter")).toBe(false);
    expect(await exists("/etc/meter")).toBe(false);
    expect(meterInstalled()).toBe(false);
  });
});

async function exists(path: string): Promise<boolean> {
  return await Deno.lstat(path).then(() => true, () => false);
}
