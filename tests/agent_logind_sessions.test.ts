/**
 * Remote sessions from systemd-logind's session files, with real processes:
 * each test program runs in an audit session of its own (a root shell writes
 * `/proc/self/loginuid`, as `pam_loginuid` does at a login, which gives it a
 * new audit session id, then execs a copy of `sleep`), and the test writes a
 * session file in logind's format, named for that real id, into a folder of
 * its own.
 *
 * @module
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LinuxProcSource } from "../agent/linux/linux_proc_source.ts";
import {
  LogindSessions,
  parseAuditSession,
  parseCgroupSession,
  parseSessionFile,
} from "../agent/linux/logind_sessions.ts";
import type { ProcessInfo } from "../agent/core/process_source.ts";
import { copySleep, uniqueName } from "./helpers/metered_program.ts";
import { waitFor } from "./helpers/wait_for.ts";

let dir: string;
let program: string;
const children: Deno.ChildProcess[] = [];

beforeAll(async () => {
  dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "meter-logind-" }));
  program = await copySleep(dir, uniqueName("mtest-sleep"));
});

afterAll(async () => {
  for (const child of children) {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
    await child.status;
  }
  await Deno.remove(dir, { recursive: true }).catch(() => {});
});

/** A session file as logind's `session_save()` writes it. */
function sessionFile(id: string, remote: 0 | 1, leader: number): string {
  return [
    "# This is private data. Do not parse.",
    "UID=1000",
    "USER=ann",
    "ACTIVE=1",
    "IS_DISPLAY=0",
    "STATE=active",
    `REMOTE=${remote}`,
    "TYPE=tty",
    "ORIGINAL_TYPE=tty",
    "CLASS=user",
    `SCOPE=session-${id}.scope`,
    `FIFO=/run/systemd/sessions/${id}.ref`,
    ...(remote ? ["REMOTE_HOST=10.0.0.5", "SERVICE=sshd"] : ["SEAT=seat0", "SERVICE=login"]),
    "POSITION=0",
    `LEADER=${leader}`,
    `AUDIT=${id}`,
    "REALTIME=1733340000000000",
    "MONOTONIC=123456789",
    "",
  ].join("\n");
}

interface Started {
  child: Deno.ChildProcess;
  /** Its audit session id, read from `/proc/PID/sessionid`. */
  audit: string;
  sessions: string;
}

/**
 * Runs the sleep copy in a new audit session, with `env` as its whole
 * environment, and a fresh empty sessions folder.
 */
async function startInNewAuditSession(env: Record<string, string> = {}): Promise<Started> {
  const child = new Deno.Command("sh", {
    args: ["-c", 'echo 1000 > /proc/self/loginuid && exec "$0" 60', program],
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  children.push(child);
  await waitFor(
    `pid ${child.pid} running ${program}`,
    () => Deno.readLinkSync(`/proc/${child.pid}/exe`) === program,
    { intervalMs: 20 },
  );
  const audit = Deno.readTextFileSync(`/proc/${child.pid}/sessionid`).trim();
  const sessions = await Deno.makeTempDir({ dir, prefix: "sessions-" });
  return { child, audit, sessions };
}

/** Writes logind's file for the started process's session, `REMOTE=remote`. */
function writeSessionFile(started: Started, remote: 0 | 1): void {
  Deno.writeTextFileSync(
    `${started.sessions}/${started.audit}`,
    sessionFile(started.audit, remote, started.child.pid),
  );
}

async function remoteOf(started: Started): Promise<boolean | undefined> {
  const source = new LinuxProcSource({ sessionsDir: started.sessions });
  const info = await waitFor(`pid ${started.child.pid} listed`, async () => {
    const snapshot = await source.snapshot();
    return [...snapshot.processes.values()].find((p: ProcessInfo) => p.pid === started.child.pid);
  });
  return (await source.details(info))?.remote;
}

const SSH_ENV = { SSH_CONNECTION: "10.0.0.5 50000 10.0.0.2 22" };

describe("remote sessions from systemd-logind, real processes", () => {
  it("runs each program in a new audit session of its own", async () => {
    const a = await startInNewAuditSession();
    const b = await startInNewAuditSession();
    expect(parseAuditSession(a.audit)).toBe(a.audit);
    expect(b.audit).not.toBe(a.audit);
  });

  it("calls a process in a session logind recorded REMOTE=1 remote, without any ssh trace", async () => {
    const started = await startInNewAuditSession();
    writeSessionFile(started, 1);
    expect(await remoteOf(started)).toBe(true);
  });

  it("calls a process in a REMOTE=0 session local, whatever its environment says", async () => {
    const started = await startInNewAuditSession(SSH_ENV);
    writeSessionFile(started, 0);
    expect(await remoteOf(started)).toBe(false);
  });

  it("falls back to the SSH_* variables when logind has no file for the session", async () => {
    const withSsh = await startInNewAuditSession(SSH_ENV);
    expect(await remoteOf(withSsh)).toBe(true);
    const without = await startInNewAuditSession();
    // A file for another session does not count.
    Deno.writeTextFileSync(`${without.sessions}/c7`, sessionFile("c7", 1, 1));
    expect(await remoteOf(without)).toBe(underSsh());
  });

  it("does not throw on a malformed session file, and falls back", async () => {
    for (
      const text of [
        "REMOTE=maybe\nUID=1000\n",
        "garbage without equals signs\n\0\0\xff\n=1\nREMOTE\n",
        "",
      ]
    ) {
      const started = await startInNewAuditSession(SSH_ENV);
      Deno.writeTextFileSync(`${started.sessions}/${started.audit}`, text);
      expect(await remoteOf(started), JSON.stringify(text)).toBe(true);
    }
    // A folder where the file should be.
    const started = await startInNewAuditSession();
    Deno.mkdirSync(`${started.sessions}/${started.audit}`);
    expect(await remoteOf(started)).toBe(underSsh());
  });
});

describe("LogindSessions", () => {
  it("reads a session file once while cached, and again after the cache time", async () => {
    const sessions = await Deno.makeTempDir({ dir, prefix: "sessions-" });
    const cache = new LogindSessions({ sessionsDir: sessions, ttlMs: 1_000 });
    Deno.writeTextFileSync(`${sessions}/5`, sessionFile("5", 1, 100));
    expect(cache.sessionRemote("5", 10_000)).toBe(true);
    Deno.writeTextFileSync(`${sessions}/5`, sessionFile("5", 0, 100));
    expect(cache.sessionRemote("5", 10_999)).toBe(true);
    expect(cache.sessionRemote("5", 11_000)).toBe(false);
    Deno.removeSync(`${sessions}/5`);
    expect(cache.sessionRemote("5", 11_500)).toBe(false);
    expect(cache.sessionRemote("5", 12_000)).toBeUndefined();
  });

  it("keeps at most maxEntries sessions, dropping the oldest", async () => {
    const sessions = await Deno.makeTempDir({ dir, prefix: "sessions-" });
    const cache = new LogindSessions({ sessionsDir: sessions, maxEntries: 3 });
    for (let id = 1; id <= 10; id++) {
      Deno.writeTextFileSync(`${sessions}/${id}`, sessionFile(String(id), 1, 100));
      cache.sessionRemote(String(id), 0);
    }
    expect(cache.cachedCount).toBe(3);
    Deno.writeTextFileSync(`${sessions}/10`, sessionFile("10", 0, 100));
    Deno.writeTextFileSync(`${sessions}/1`, sessionFile("1", 0, 100));
    expect(cache.sessionRemote("10", 1)).toBe(true); // Still cached.
    expect(cache.sessionRemote("1", 1)).toBe(false); // Dropped, read again.
  });

  it("looks a process up by its cgroup scope when it has no audit session", async () => {
    const sessions = await Deno.makeTempDir({ dir, prefix: "sessions-" });
    Deno.writeTextFileSync(`${sessions}/c2`, sessionFile("c2", 1, 100));
    const cache = new LogindSessions({ sessionsDir: sessions });
    const scope = "0::/user.slice/user-1000.slice/session-c2.scope\n";
    expect(cache.remote("4294967295", scope)).toBe(true);
    expect(cache.remote("4294967295", "0::/system.slice/cron.service\n")).toBeUndefined();
  });

  it("refuses session ids that are not logind's, so no path leaves the folder", () => {
    const cache = new LogindSessions({ sessionsDir: "/nonexistent" });
    expect(cache.sessionRemote("../etc")).toBeUndefined();
    expect(cache.sessionRemote("")).toBeUndefined();
    expect(cache.cachedCount).toBe(0);
  });
});

describe("logind parsers", () => {
  it("reads REMOTE as systemd's parse_boolean does, skipping comments and junk", () => {
    expect(parseSessionFile(sessionFile("3", 1, 1))?.remote).toBe(true);
    expect(parseSessionFile(sessionFile("3", 0, 1))?.fields.get("SERVICE")).toBe("login");
    expect(parseSessionFile("REMOTE=yes\n")?.remote).toBe(true);
    expect(parseSessionFile('REMOTE="no"\n')?.remote).toBe(false);
    expect(parseSessionFile("# REMOTE=1\nUID=1000\n")?.remote).toBeUndefined();
    expect(parseSessionFile("REMOTE=2\n")?.remote).toBeUndefined();
    expect(parseSessionFile(undefined)).toBeUndefined();
  });

  it("reads the audit session id, none for 4294967295", () => {
    expect(parseAuditSession("42")).toBe("42");
    expect(parseAuditSession("4294967295")).toBeUndefined();
    expect(parseAuditSession("0")).toBeUndefined();
    expect(parseAuditSession("x")).toBeUndefined();
    expect(parseAuditSession(undefined)).toBeUndefined();
  });

  it("finds session-<id>.scope in cgroup v2 and v1 files", () => {
    expect(parseCgroupSession("0::/user.slice/user-1000.slice/session-3.scope\n")).toBe("3");
    expect(
      parseCgroupSession(
        "12:pids:/user.slice/user-1000.slice/session-9.scope\n" +
          "1:name=systemd:/user.slice/user-1000.slice/session-c4.scope\n0::/\n",
      ),
    ).toBe("c4");
    expect(
      parseCgroupSession(
        "0::/user.slice/user-1000.slice/user@1000.service/app.slice/app-x.scope\n",
      ),
    ).toBeUndefined();
    expect(parseCgroupSession("0::/x/session-a.b.scope\n")).toBeUndefined();
    expect(parseCgroupSession(undefined)).toBeUndefined();
  });
});

/** Whether this test runs under an ssh server, which makes every child remote by fallback. */
function underSsh(): boolean {
  let pid = Deno.pid;
  for (let step = 0; step < 128 && pid > 1; step++) {
    const text = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const comm = text.slice(text.indexOf("(") + 1, text.lastIndexOf(")"));
    if (step > 0 && (comm === "sshd" || comm === "sshd-session")) return true;
    pid = Number(text.slice(text.lastIndexOf(")") + 2).split(" ")[1]);
  }
  return false;
}
