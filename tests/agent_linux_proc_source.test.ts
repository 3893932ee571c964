import { afterAll, describe, expect, it } from "vitest";
import {
  LinuxProcSource,
  localeLanguage,
  parseEnviron,
  parseRealUid,
  parseStat,
} from "../agent/linux/linux_proc_source.ts";
import type { ProcessInfo } from "../agent/core/process_source.ts";
import { UserNames } from "../agent/linux/user_names.ts";

const children: Deno.ChildProcess[] = [];
const strayPids: number[] = [];
const tempDirs: string[] = [];
const createdUsers: string[] = [];

afterAll(async () => {
  for (const pid of strayPids) killQuietly(pid);
  for (const child of children) {
    killQuietly(child.pid);
    await child.status;
  }
  for (const dir of tempDirs) await Deno.remove(dir, { recursive: true }).catch(() => {});
  for (const user of createdUsers) await run("userdel", [user]);
});

function suffix(): string {
  return crypto.randomUUID().slice(0, 8);
}

function killQuietly(pid: number): void {
  try {
    Deno.kill(pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}

async function run(program: string, args: string[]): Promise<{ code: number; stdout: string }> {
  const output = await new Deno.Command(program, { args, stdout: "piped", stderr: "null" })
    .output();
  return { code: output.code, stdout: new TextDecoder().decode(output.stdout).trim() };
}

/** A temporary directory anyone may enter, so other users can run programs in it. */
async function tempDir(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "meter-proc-test-" });
  tempDirs.push(dir);
  await Deno.chmod(dir, 0o755);
  return await Deno.realPath(dir);
}

/** A copy of `/bin/sleep` under a unique name, since other tests run agents alongside. */
async function sleepCopy(name = `meter-sleep-${suffix()}`): Promise<string> {
  const path = `${await tempDir()}/${name}`;
  await Deno.copyFile("/bin/sleep", path);
  await Deno.chmod(path, 0o755);
  return path;
}

function start(
  program: string,
  args: string[],
  options: { env?: Record<string, string>; clearEnv?: boolean } = {},
): Deno.ChildProcess {
  const child = spawnFresh(
    new Deno.Command(program, { args, stdin: "null", stdout: "null", stderr: "null", ...options }),
  );
  children.push(child);
  return child;
}

/**
 * Spawns, retrying on "Text file busy": a program just written can be briefly
 * held open for writing by a child another thread is forking.
 */
function spawnFresh(command: Deno.Command): Deno.ChildProcess {
  for (let attempt = 0;; attempt++) {
    try {
      return command.spawn();
    } catch (error) {
      if (attempt >= 50 || !String(error).includes("Text file busy")) throw error;
    }
  }
}

async function stop(child: Deno.ChildProcess): Promise<void> {
  killQuietly(child.pid);
  await child.status;
}

async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function find(
  source: LinuxProcSource,
  test: (p: ProcessInfo) => boolean,
): Promise<ProcessInfo | undefined> {
  const snapshot = await source.snapshot();
  return [...snapshot.processes.values()].find(test);
}

/** Waits until the process with `pid` runs `exe`, after any exec. */
/**
 * The pid once it runs `exe` with its command line: during an exec `/proc`
 * can show the new executable a moment before the new command line, and the
 * source reads a young process again at each poll.
 */
function running(source: LinuxProcSource, pid: number, exe: string): Promise<ProcessInfo> {
  return waitFor(
    `pid ${pid} running ${exe}`,
    () => find(source, (p) => p.pid === pid && p.exe === exe && p.argv0 !== ""),
  );
}

/** Whether this test runs under an ssh server, which makes every child remote. */
function underSsh(): boolean {
  let pid = Deno.pid;
  for (let step = 0; step < 128 && pid > 1; step++) {
    const stat = parseStat(Deno.readTextFileSync(`/proc/${pid}/stat`))!;
    if (step > 0 && (stat.comm === "sshd" || stat.comm === "sshd-session")) return true;
    pid = stat.ppid;
  }
  return false;
}

describe("LinuxProcSource on this machine", () => {
  it("sees a new process with its executable, argv[0] and start time, and sees it end", async () => {
    const source = new LinuxProcSource();
    await source.snapshot();
    const program = await sleepCopy();
    const before = Date.now();
    const child = start(program, ["60"]);
    const after = Date.now();
    const seen = await running(source, child.pid, program);
    expect(seen.argv0).toBe(program);
    expect(seen.comm).toBe(program.split("/").pop()!.slice(0, 15));
    expect(seen.ppid).toBe(Deno.pid);
    expect(seen.startMs).toBeGreaterThan(before - 1_000);
    expect(seen.startMs).toBeLessThan(after + 1_000);
    const snapshot = await source.snapshot();
    expect(snapshot.bootId).toBe(Deno.readTextFileSync("/proc/sys/kernel/random/boot_id").trim());
    expect(snapshot.processes.get(`${seen.pid}:${seen.startTicks}`)).toEqual(seen);

    await stop(child);
    await waitFor("the process to be gone", async () => {
      const gone = await find(source, (p) => p.pid === child.pid && p.exe === program);
      return gone ? undefined : true;
    });
    expect(await source.details(seen)).toBeUndefined();
  });

  it("reports a link's name as argv[0] and the real file as the executable", async () => {
    const source = new LinuxProcSource();
    const program = await sleepCopy();
    const link = `${program.slice(0, program.lastIndexOf("/"))}/meter-link-${suffix()}`;
    await Deno.symlink(program, link);
    const child = start(link, ["60"]);
    const seen = await running(source, child.pid, program);
    expect(seen.argv0).toBe(link);
    await stop(child);
  });

  it("parses a command name holding spaces and parentheses", async () => {
    const source = new LinuxProcSource();
    const program = await sleepCopy(`m) x (y) ${suffix()}`);
    const child = start(program, ["60"]);
    const seen = await running(source, child.pid, program);
    expect(seen.comm).toBe(program.split("/").pop()!.slice(0, 15));
    expect(seen.ppid).toBe(Deno.pid);
    await stop(child);
  });

  it("follows an exec within the young window, keeping the process key", async () => {
    const source = new LinuxProcSource();
    const program = await sleepCopy();
    const child = start("/bin/sh", ["-c", `sleep 0.3; exec '${program}' 60`]);
    const before = await waitFor("the wrapper", () => find(source, (p) => p.pid === child.pid));
    expect(before.exe).not.toBe(program);
    const after = await running(source, child.pid, program);
    expect(after.startTicks).toBe(before.startTicks);
    expect(after.argv0).toBe(program);
    await stop(child);
  });

  it("keeps what it read about a process older than the young window", async () => {
    const source = new LinuxProcSource({ youngWindowMs: 0 });
    const program = await sleepCopy();
    const child = start("/bin/sh", ["-c", `sleep 0.3; exec '${program}' 60`]);
    const before = await waitFor("the wrapper", () => find(source, (p) => p.pid === child.pid));
    await waitFor("the exec", () => {
      const exe = Deno.readLinkSync(`/proc/${child.pid}/exe`);
      return Promise.resolve(exe === program ? true : undefined);
    });
    const after = await find(source, (p) => p.pid === child.pid);
    expect(after?.exe).toBe(before.exe);
    await stop(child);
  });

  it("ends a process that exited but was not reaped", async () => {
    const source = new LinuxProcSource({ recheckMs: 0 });
    const program = await sleepCopy();
    // `sleep` becomes the parent and never reaps its child.
    const parent = start("/bin/sh", ["-c", `'${program}' 60 & exec sleep 60`]);
    const seen = await waitFor(
      "the child",
      () => find(source, (p) => p.ppid === parent.pid && p.exe === program),
    );
    strayPids.push(seen.pid);
    Deno.kill(seen.pid, "SIGKILL");
    await waitFor("the zombie to end", async () => {
      return (await find(source, (p) => p.pid === seen.pid)) ? undefined : true;
    });
    expect(Deno.readTextFileSync(`/proc/${seen.pid}/stat`)).toMatch(/\) Z /);
    await stop(parent);
  });

  it("reads remote and language from the environment", async () => {
    // No logind sessions, so a desktop session around the test does not overrule the variables.
    const source = new LinuxProcSource({ sessionsDir: await tempDir() });
    const program = await sleepCopy();
    const cases: [Record<string, string>, boolean, string | null][] = [
      [{ SSH_CONNECTION: "10.0.0.1 50000 10.0.0.2 22", LANG: "de_DE.UTF-8" }, true, "de"],
      [{ SSH_TTY: "/dev/pts/3", LANG: "de_DE.UTF-8", LC_ALL: "fr_FR.UTF-8" }, true, "fr"],
      [{ LANG: "de_DE.UTF-8", LC_MESSAGES: "pt_BR" }, underSsh(), "pt"],
      [{ LANG: "C.UTF-8" }, underSsh(), null],
      [{}, underSsh(), null],
    ];
    for (const [env, remote, language] of cases) {
      const child = start(program, ["60"], { env, clearEnv: true });
      const seen = await running(source, child.pid, program);
      const details = await source.details(seen);
      expect(details, JSON.stringify(env)).toMatchObject({
        remote,
        language,
        uid: 0,
        user: "root",
      });
      await stop(child);
    }
  });

  it("names the real user of a process run as another user", async () => {
    const name = `mt${suffix()}`;
    await addUser(name);
    const uid = Number((await run("id", ["-u", name])).stdout);
    const gid = Number((await run("id", ["-g", name])).stdout);
    const source = new LinuxProcSource();
    const program = await sleepCopy();
    const child = start("setpriv", [
      `--reuid=${uid}`,
      `--regid=${gid}`,
      "--clear-groups",
      program,
      "60",
    ]);
    const seen = await running(source, child.pid, program);
    expect(await source.details(seen)).toMatchObject({ uid, user: name });
    await stop(child);
  });

  it("names a uid without an account uid:<n>", async () => {
    const uid = await unusedUid();
    const source = new LinuxProcSource();
    const program = await sleepCopy();
    const child = start("setpriv", [
      `--reuid=${uid}`,
      `--regid=${uid}`,
      "--clear-groups",
      program,
      "60",
    ]);
    const seen = await running(source, child.pid, program);
    expect(await source.details(seen)).toMatchObject({ uid, user: `uid:${uid}` });
    await stop(child);
  });
});

/** Adds a user, retrying while another test holds the passwd lock. */
async function addUser(name: string): Promise<void> {
  for (let attempt = 0;; attempt++) {
    const { code } = await run("useradd", [
      "--no-create-home",
      "--shell",
      "/usr/sbin/nologin",
      name,
    ]);
    if (code === 0) break;
    if (attempt >= 20) throw new Error(`useradd ${name} failed with ${code}`);
    await new Promise((resolve) => setTimeout(resolve, 100 + Math.random() * 200));
  }
  createdUsers.push(name);
}

async function unusedUid(): Promise<number> {
  for (;;) {
    const uid = 700_000 + Math.floor(Math.random() * 100_000);
    if ((await run("getent", ["passwd", String(uid)])).code !== 0) return uid;
  }
}

/** A fake procfs in a temporary directory, for what a real system will not do on demand. */
class FakeProc {
  constructor(readonly root: string) {}

  static async create(uptimeSeconds = 1_000): Promise<FakeProc> {
    const root = await Deno.makeTempDir({ prefix: "meter-fake-proc-" });
    tempDirs.push(root);
    Deno.mkdirSync(`${root}/sys/kernel/random`, { recursive: true });
    Deno.writeTextFileSync(`${root}/sys/kernel/random/boot_id`, "fake-boot\n");
    Deno.writeTextFileSync(`${root}/uptime`, `${uptimeSeconds.toFixed(2)} 10.00\n`);
    return new FakeProc(root);
  }

  add(process: {
    pid: number;
    startTicks: number;
    comm?: string;
    ppid?: number;
    state?: string;
    flags?: number;
    exe?: string | null;
    argv?: string[];
    env?: Record<string, string>;
    uid?: number;
  }): void {
    const dir = `${this.root}/${process.pid}`;
    // Replacing a process: its old files go.
    Deno.mkdirSync(dir, { recursive: true });
    for (const entry of Deno.readDirSync(dir)) Deno.removeSync(`${dir}/${entry.name}`);
    const comm = process.comm ?? "prog";
    const stat = `${process.pid} (${comm}) ${process.state ?? "S"} ${process.ppid ?? 1} ` +
      `${process.pid} ${process.pid} 0 -1 ${process.flags ?? 4194560} 0 0 0 0 0 0 0 0 20 0 1 0 ` +
      `${process.startTicks} 12345678 300 18446744073709551615\n`;
    Deno.writeTextFileSync(`${dir}/stat`, stat);
    if (process.exe !== null) Deno.symlinkSync(process.exe ?? `/usr/bin/${comm}`, `${dir}/exe`);
    const argv = process.argv ?? [process.exe ?? comm];
    Deno.writeTextFileSync(`${dir}/cmdline`, argv.map((arg) => `${arg}\0`).join(""));
    const env = Object.entries(process.env ?? {}).map(([key, value]) => `${key}=${value}\0`);
    Deno.writeTextFileSync(`${dir}/environ`, env.join(""));
    const uid = process.uid ?? 1000;
    Deno.writeTextFileSync(
      `${dir}/status`,
      `Name:\t${comm}\nUid:\t${uid}\t${uid}\t${uid}\t${uid}\n`,
    );
  }

  remove(pid: number): void {
    Deno.removeSync(`${this.root}/${pid}`, { recursive: true });
  }

  setLastPid(pid: number): void {
    Deno.writeTextFileSync(`${this.root}/sys/kernel/ns_last_pid`, `${pid}\n`);
  }
}

function fakeSource(
  fake: FakeProc,
  options: { youngWindowMs?: number; recheckMs?: number } = {},
) {
  const passwd = `${fake.root}/passwd`;
  Deno.writeTextFileSync(
    passwd,
    "root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n",
  );
  return new LinuxProcSource({
    procRoot: fake.root,
    clockTicks: 100,
    youngWindowMs: options.youngWindowMs ?? 0,
    recheckMs: options.recheckMs ?? 3_600_000,
    userNames: new UserNames({ passwdPath: passwd, getent: null }),
  });
}

async function pidsOf(source: LinuxProcSource): Promise<Map<number, ProcessInfo>> {
  const snapshot = await source.snapshot();
  return new Map([...snapshot.processes.values()].map((p) => [p.pid, p]));
}

describe("LinuxProcSource on a fake /proc", () => {
  it("reports user processes with start times from uptime, not kernel threads or zombies", async () => {
    const fake = await FakeProc.create(1_000);
    fake.add({ pid: 1, startTicks: 1, comm: "init", ppid: 0 });
    fake.add({
      pid: 2,
      startTicks: 1,
      comm: "kthreadd",
      ppid: 0,
      flags: 0x00208040,
      exe: null,
      argv: [],
    });
    fake.add({
      pid: 40,
      startTicks: 90_000,
      comm: "app",
      exe: "/opt/app/app",
      argv: ["app", "-x"],
    });
    fake.add({ pid: 41, startTicks: 90_000, comm: "gone", state: "Z", exe: null, argv: [] });
    fake.add({ pid: 42, startTicks: 90_000, comm: "going", exe: null, argv: [] });
    fake.add({ pid: 43, startTicks: 90_000, comm: "upgraded", exe: "/usr/bin/tool (deleted)" });
    Deno.mkdirSync(`${fake.root}/44`); // Vanished before its stat could be read.
    // Another user's process, seen by an agent that is not root: no exe, but argv[0].
    fake.add({
      pid: 45,
      startTicks: 90_000,
      comm: "secret",
      exe: null,
      argv: ["/usr/bin/secret", "-v"],
    });
    Deno.mkdirSync(`${fake.root}/self`);
    const before = Date.now();
    const source = fakeSource(fake);
    const snapshot = await source.snapshot();
    expect(snapshot.bootId).toBe("fake-boot");
    const byPid = new Map([...snapshot.processes.values()].map((p) => [p.pid, p]));
    expect([...byPid.keys()].sort((a, b) => a - b)).toEqual([1, 40, 43, 45]);
    const app = byPid.get(40)!;
    expect(app).toMatchObject({ startTicks: 90_000, ppid: 1, comm: "app", exe: "/opt/app/app" });
    expect(app.argv0).toBe("app");
    // Booted 1,000 s ago; started 900 s after boot.
    expect(Math.abs(app.startMs - (before - 100_000))).toBeLessThan(200);
    expect(byPid.get(43)!.exe).toBe("/usr/bin/tool");
    expect(byPid.get(45)).toMatchObject({ exe: null, argv0: "/usr/bin/secret", comm: "secret" });
  });

  it("reads a known pid's files only once", async () => {
    const fake = await FakeProc.create();
    fake.add({ pid: 40, startTicks: 100, comm: "app", exe: "/opt/app" });
    const source = fakeSource(fake);
    await source.snapshot();
    fake.add({ pid: 40, startTicks: 100, comm: "changed", exe: "/opt/changed" });
    expect((await pidsOf(source)).get(40)).toMatchObject({ comm: "app", exe: "/opt/app" });
  });

  it("sees a reused pid when a new pid appears below the highest", async () => {
    const fake = await FakeProc.create();
    fake.add({ pid: 400, startTicks: 100, exe: "/opt/old" });
    fake.add({ pid: 900, startTicks: 200, exe: "/opt/high" });
    const source = fakeSource(fake);
    await source.snapshot();
    fake.add({ pid: 400, startTicks: 5_000, exe: "/opt/new" });
    fake.add({ pid: 301, startTicks: 4_990, exe: "/opt/first-after-wrap" });
    const byPid = await pidsOf(source);
    expect(byPid.get(400)).toMatchObject({ startTicks: 5_000, exe: "/opt/new" });
    expect(byPid.get(301)?.exe).toBe("/opt/first-after-wrap");
    expect(byPid.get(900)?.exe).toBe("/opt/high");
  });

  it("sees a reused pid when ns_last_pid goes down though no new pid appears", async () => {
    const fake = await FakeProc.create();
    fake.add({ pid: 400, startTicks: 100, exe: "/opt/old" });
    fake.add({ pid: 900, startTicks: 200, exe: "/opt/high" });
    fake.setLastPid(950);
    const source = fakeSource(fake);
    await source.snapshot();
    fake.setLastPid(960);
    await source.snapshot();
    fake.add({ pid: 400, startTicks: 5_000, exe: "/opt/new" });
    fake.remove(900);
    fake.setLastPid(400);
    const byPid = await pidsOf(source);
    expect([...byPid.keys()]).toEqual([400]);
    expect(byPid.get(400)).toMatchObject({ startTicks: 5_000, exe: "/opt/new" });
  });

  it("does not mistake new pids above the highest for a wrap", async () => {
    const fake = await FakeProc.create();
    fake.add({ pid: 400, startTicks: 100, exe: "/opt/old" });
    const source = fakeSource(fake);
    await source.snapshot();
    // Rewritten behind the source's back: only a wrap check would read it again.
    fake.add({ pid: 400, startTicks: 5_000, exe: "/opt/new" });
    fake.add({ pid: 401, startTicks: 5_001, exe: "/opt/next" });
    const byPid = await pidsOf(source);
    expect(byPid.get(400)?.exe).toBe("/opt/old");
    expect(byPid.get(401)?.exe).toBe("/opt/next");
  });

  it("reads young processes again to follow an exec, and old ones not", async () => {
    const fake = await FakeProc.create(1_000);
    // Started 0.5 s ago and 500 s ago.
    fake.add({
      pid: 50,
      startTicks: 99_950,
      comm: "wrapper",
      exe: "/bin/dash",
      argv: ["/opt/app.sh"],
    });
    fake.add({
      pid: 51,
      startTicks: 50_000,
      comm: "wrapper",
      exe: "/bin/dash",
      argv: ["/opt/old.sh"],
    });
    const source = fakeSource(fake, { youngWindowMs: 5_000 });
    const first = await pidsOf(source);
    fake.add({ pid: 50, startTicks: 99_950, comm: "app", exe: "/opt/app", argv: ["/opt/app"] });
    fake.add({ pid: 51, startTicks: 50_000, comm: "old", exe: "/opt/old", argv: ["/opt/old"] });
    const second = await pidsOf(source);
    expect(second.get(50)).toMatchObject({
      startTicks: 99_950,
      comm: "app",
      exe: "/opt/app",
      argv0: "/opt/app",
    });
    expect(second.get(51)).toEqual(first.get(51));
  });

  it("ends a zombie at the periodic recheck and forgets vanished pids", async () => {
    const fake = await FakeProc.create();
    fake.add({ pid: 60, startTicks: 100, exe: "/opt/a" });
    fake.add({ pid: 61, startTicks: 100, exe: "/opt/b" });
    const source = fakeSource(fake, { recheckMs: 0 });
    expect([...(await pidsOf(source)).keys()].sort()).toEqual([60, 61]);
    fake.add({ pid: 60, startTicks: 100, state: "Z", exe: null, argv: [] });
    fake.remove(61);
    expect((await pidsOf(source)).size).toBe(0);
  });

  it("finds remote sessions through sshd ancestors, read from the cache or from /proc", async () => {
    const fake = await FakeProc.create();
    fake.add({ pid: 1, startTicks: 1, comm: "systemd", ppid: 0 });
    fake.add({ pid: 500, startTicks: 10, comm: "sshd", ppid: 1, uid: 0 });
    fake.add({ pid: 501, startTicks: 20, comm: "sshd-session", ppid: 500, uid: 0 });
    fake.add({ pid: 502, startTicks: 30, comm: "bash", ppid: 501, env: { LANG: "de_DE.UTF-8" } });
    fake.add({ pid: 600, startTicks: 40, comm: "cron", ppid: 1 });
    fake.add({ pid: 601, startTicks: 50, comm: "job", ppid: 600, env: { LANG: "C" } });
    const source = fakeSource(fake);
    const byPid = await pidsOf(source);
    expect(await source.details(byPid.get(502)!)).toEqual({
      uid: 1000,
      user: "alice",
      remote: true,
      language: "de",
    });
    expect((await source.details(byPid.get(500)!))?.remote).toBe(false);
    expect(await source.details(byPid.get(601)!)).toEqual({
      uid: 1000,
      user: "alice",
      remote: false,
      language: null,
    });
    // A child whose parent appeared after the snapshot: the parent's stat is read.
    fake.add({ pid: 503, startTicks: 60, comm: "vim", ppid: 502 });
    const vim = { ...byPid.get(601)!, pid: 503, startTicks: 60, ppid: 502, comm: "vim" };
    expect((await source.details(vim))?.remote).toBe(true);
    fake.add({ pid: 504, startTicks: 61, comm: "prog", ppid: 1, uid: 4242 });
    const unknownUser = { ...vim, pid: 504, startTicks: 61, ppid: 1 };
    expect((await source.details(unknownUser))?.user).toBe("uid:4242");
  });

  it("answers undefined for details of a process gone or replaced", async () => {
    const fake = await FakeProc.create();
    fake.add({ pid: 70, startTicks: 100, exe: "/opt/a" });
    fake.add({ pid: 71, startTicks: 100, exe: "/opt/b" });
    const source = fakeSource(fake);
    const byPid = await pidsOf(source);
    fake.remove(70);
    fake.add({ pid: 71, startTicks: 999, exe: "/opt/c" });
    expect(await source.details(byPid.get(70)!)).toBeUndefined();
    expect(await source.details(byPid.get(71)!)).toBeUndefined();
  });
});

describe("parsers", () => {
  it("splits stat at the last parenthesis", () => {
    const line = "123 (a) (b) c) R 45 123 123 0 -1 4194304 1 2 3 4 5 6 7 8 20 0 1 0 9876 100 200\n";
    expect(parseStat(line)).toEqual({
      pid: 123,
      comm: "a) (b) c",
      state: "R",
      ppid: 45,
      flags: 4194304,
      startTicks: 9876,
    });
    expect(parseStat("garbage")).toBeUndefined();
    expect(parseStat("1 (x) S 0")).toBeUndefined();
  });

  it("reads the real uid, the environment and the locale's language", () => {
    expect(parseRealUid("Name:\tx\nUid:\t1000\t0\t0\t0\nGid:\t5\n")).toBe(1000);
    expect(parseRealUid("Name:\tx\n")).toBeUndefined();
    const env = parseEnviron(new TextEncoder().encode("A=1\0B=x=y\0EMPTY=\0junk\0"));
    expect([...env]).toEqual([["A", "1"], ["B", "x=y"], ["EMPTY", ""]]);
    const language = (vars: Record<string, string>) =>
      localeLanguage(new Map(Object.entries(vars)));
    expect(language({ LANG: "de_DE.UTF-8" })).toBe("de");
    expect(language({ LANG: "sr_RS@latin" })).toBe("sr");
    expect(language({ LANG: "en.UTF-8" })).toBe("en");
    expect(language({ LANG: "de_DE", LC_ALL: "" })).toBe("de");
    expect(language({ LANG: "de_DE", LC_MESSAGES: "fr_FR", LC_ALL: "ja_JP" })).toBe("ja");
    expect(language({ LANG: "POSIX" })).toBeNull();
    expect(language({ LANG: "C" })).toBeNull();
    expect(language({})).toBeNull();
  });
});
