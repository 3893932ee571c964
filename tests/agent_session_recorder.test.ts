/**
 * The session recorder on its own, driven by the fake process source and a
 * fake clock: every start, end and flag is checked to the millisecond, with
 * no real program and no waiting. The database is a real agent database.
 *
 * @module
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { join } from "node:path";
import { openAgentDatabase } from "../agent/agent_db.ts";
import { SessionRecorder } from "../agent/core/session_recorder.ts";
import type { Client } from "../store/db.ts";
import { Mutex } from "../lib/mutex.ts";
import type { Rule } from "../model/rule.ts";
import { FakeClock } from "./helpers/fake_clock.ts";
import { testRule } from "./helpers/test_rule.ts";
import { type FakeProcess, FakeProcessSource } from "./helpers/fake_process_source.ts";
import { tempDir } from "./helpers/metered_program.ts";

const CAD = "/opt/cad/bin/cad";
const EDITOR = "/usr/bin/editor";

function rule(id: string, fileName: string): Rule {
  return testRule(id, { fileName });
}

/** A session as the recorder stored it. */
interface Stored {
  id: string;
  ruleId: string;
  user: string;
  exe: string;
  pid: number;
  bootId: string;
  startMs: number;
  endMs: number | null;
  startNotCaptured: boolean;
  endNotCaptured: boolean;
  remote: boolean;
  version: string | null;
  language: string | null;
}

/** An error as SQLite gives it when the disk is full. */
function diskFullError(): Error {
  return Object.assign(new Error("SQLITE_FULL: database or disk is full"), { code: "SQLITE_FULL" });
}

describe("session recorder", () => {
  let temp: Awaited<ReturnType<typeof tempDir>>;
  let db: Client;
  let clock: FakeClock;
  let source: FakeProcessSource;
  /** What the database's next writes throw; `undefined` writes. */
  let writeError: (() => Error) | undefined;

  beforeEach(async () => {
    temp = await tempDir("meter-recorder-test-");
    db = await openAgentDatabase(join(temp.dir, "agent.db"));
    clock = new FakeClock();
    source = new FakeProcessSource(clock);
    writeError = undefined;
  });

  afterEach(async () => {
    db.close();
    await temp.remove();
  });

  /** The database, with writes failing while `writeError` is set. */
  function faultyDb(): Client {
    return new Proxy(db, {
      get(target, property) {
        if (property === "batch" && writeError) {
          const error = writeError;
          return () => Promise.reject(error());
        }
        const value = Reflect.get(target, property);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  }

  /** A recorder as the agent makes one at start: loaded, with rules for cad and editor. */
  async function startRecorder(rules = [rule("S01-1", "cad"), rule("S01-2", "editor")]) {
    const recorder = new SessionRecorder({
      db: faultyDb(),
      source,
      lock: new Mutex(),
      clock,
      hashOf: () => Promise.resolve(null),
      versionOf: (exe) => Promise.resolve(exe === CAD ? "2.1" : null),
    });
    await recorder.load();
    recorder.setRules(rules);
    return recorder;
  }

  /** Starts a process and has a poll one second later see it. */
  async function runSeen(recorder: SessionRecorder, process: FakeProcess) {
    const info = source.start(process);
    clock.advance(1_000);
    await recorder.poll();
    return info;
  }

  async function stored(): Promise<Stored[]> {
    const result = await db.execute("SELECT * FROM agent_sessions ORDER BY start_ms, id");
    return result.rows.map((row) => ({
      id: String(row.id),
      ruleId: String(row.rule_id),
      user: String(row.user_name),
      exe: String(row.exe),
      pid: Number(row.pid),
      bootId: String(row.boot_id),
      startMs: Number(row.start_ms),
      endMs: row.end_ms === null ? null : Number(row.end_ms),
      startNotCaptured: row.start_not_captured === 1,
      endNotCaptured: row.end_not_captured === 1,
      remote: row.remote === 1,
      version: row.version === null ? null : String(row.version),
      language: row.language === null ? null : String(row.language),
    }));
  }

  it("records a session from the process's start to the first poll that misses it", async () => {
    const recorder = await startRecorder();
    clock.advance(1_000);
    const cad = source.start({ exe: CAD, user: "bob" });
    clock.advance(700);
    expect(await recorder.poll()).toMatchObject({ started: 1, ended: 0, open: 1 });
    clock.advance(1_000);
    expect(await recorder.poll()).toMatchObject({ started: 0, ended: 0, open: 1 });
    source.stop(cad.pid);
    clock.advance(300);
    const endPoll = await recorder.poll();
    expect(endPoll).toMatchObject({ started: 0, ended: 1, open: 0, at: clock.now() });
    expect(await stored()).toEqual([{
      id: `${new Date(cad.startMs).toISOString().slice(0, 10)}/1`,
      ruleId: "S01-1",
      user: "bob",
      exe: CAD,
      pid: cad.pid,
      bootId: source.bootId,
      startMs: cad.startMs,
      endMs: clock.now(),
      startNotCaptured: false,
      endNotCaptured: false,
      remote: false,
      version: "2.1",
      language: null,
    }]);
  });

  it("passes the process's user, remote login and language through", async () => {
    const recorder = await startRecorder();
    source.start({ exe: CAD, user: "carol", remote: true, language: "de-DE" });
    source.start({ exe: EDITOR, user: "dave", remote: false });
    clock.advance(1_000);
    await recorder.poll();
    const sessions = await stored();
    expect(sessions.map((s) => [s.ruleId, s.user, s.remote, s.version, s.language])).toEqual([
      ["S01-1", "carol", true, "2.1", "de-DE"],
      ["S01-2", "dave", false, null, null],
    ]);
  });

  it("ignores programs no rule names", async () => {
    const recorder = await startRecorder();
    source.start({ exe: "/usr/bin/bash" });
    clock.advance(1_000);
    expect(await recorder.poll()).toMatchObject({ started: 0, open: 0 });
    expect(await stored()).toEqual([]);
  });

  it("flags a process that ran before the agent started, keeping its real start", async () => {
    const before = source.start({ exe: CAD, startMs: clock.now() - 60_000 });
    const recorder = await startRecorder();
    clock.advance(1);
    const after = source.start({ exe: EDITOR });
    clock.advance(1_000);
    await recorder.poll();
    const sessions = await stored();
    expect(sessions.map((s) => [s.pid, s.startMs, s.startNotCaptured])).toEqual([
      [before.pid, before.startMs, true],
      [after.pid, after.startMs, false],
    ]);
  });

  it("makes a pid reused by a new process a new session", async () => {
    const recorder = await startRecorder();
    const first = await runSeen(recorder, { exe: CAD, pid: 4242 });
    // The first ends and the pid is handed out again before the next poll.
    source.stop(4242);
    clock.advance(500);
    const second = source.start({ exe: CAD, pid: 4242 });
    clock.advance(500);
    expect(await recorder.poll()).toMatchObject({ started: 1, ended: 1, open: 1 });
    const sessions = await stored();
    expect(sessions.map((s) => [s.pid, s.startMs, s.endMs])).toEqual([
      [4242, first.startMs, clock.now()],
      [4242, second.startMs, null],
    ]);
    expect(new Set(sessions.map((s) => s.id)).size).toBe(2);
  });

  it("never sees a process that starts and ends between two polls", async () => {
    const recorder = await startRecorder();
    await recorder.poll();
    const brief = source.start({ exe: CAD });
    clock.advance(400);
    source.stop(brief.pid);
    clock.advance(600);
    expect(await recorder.poll()).toMatchObject({ started: 0, ended: 0, open: 0 });
    expect(await stored()).toEqual([]);
  });

  it("numbers each day's sessions on from where the last run left off", async () => {
    let recorder = await startRecorder();
    await runSeen(recorder, { exe: CAD });
    recorder = await startRecorder();
    source.start({ exe: EDITOR });
    clock.advance(1_000);
    await recorder.poll();
    expect((await stored()).map((s) => s.id.split("/")[1])).toEqual(["1", "2"]);
  });

  it("after a restart, carries on a session whose process still runs", async () => {
    const first = await startRecorder();
    const cad = await runSeen(first, { exe: CAD });
    clock.advance(10_000);
    const second = await startRecorder();
    expect(await second.poll()).toMatchObject({ started: 0, ended: 0, open: 1 });
    source.stop(cad.pid);
    clock.advance(1_000);
    await second.poll();
    const [session] = await stored();
    expect(session).toMatchObject({ endMs: clock.now(), endNotCaptured: false });
    expect(await stored()).toHaveLength(1);
  });

  it("after a restart, ends a session whose process went meanwhile at the last poll stored", async () => {
    const first = await startRecorder();
    const cad = await runSeen(first, { exe: CAD });
    // Open sessions' last-seen time is stored every five seconds at most.
    clock.advance(6_000);
    await first.poll();
    const lastSeen = clock.now();
    clock.advance(1_000);
    await first.poll(); // too soon after the last to store anything
    // The agent stops without a word; the program ends while it is away.
    source.stop(cad.pid);
    clock.advance(60_000);
    const second = await startRecorder();
    expect(await second.poll()).toMatchObject({ ended: 1, open: 0 });
    const [session] = await stored();
    expect(session).toMatchObject({ endMs: lastSeen, endNotCaptured: true });
  });

  it("after a restart, ends the sessions of the boot before even where a pid is back", async () => {
    const first = await startRecorder();
    await runSeen(first, { exe: CAD, pid: 4242 });
    const lastSeen = clock.now();
    source.reboot();
    clock.advance(30_000);
    const again = source.start({ exe: CAD, pid: 4242 });
    clock.advance(1_000);
    const second = await startRecorder();
    expect(await second.poll()).toMatchObject({ started: 1, ended: 1, open: 1 });
    const sessions = await stored();
    expect(sessions.map((s) => [s.bootId, s.endMs, s.endNotCaptured])).toEqual([
      ["boot-1", lastSeen, true],
      ["boot-2", null, false],
    ]);
    expect(sessions[1].startMs).toBe(again.startMs);
  });

  it("ends an open session when the boot changes under a running recorder", async () => {
    const recorder = await startRecorder();
    await runSeen(recorder, { exe: CAD });
    source.reboot();
    clock.advance(1_000);
    expect(await recorder.poll()).toMatchObject({ ended: 1, open: 0 });
    expect((await stored())[0]).toMatchObject({ endMs: clock.now(), endNotCaptured: false });
  });

  it("lets a session run on when its rule goes, and starts none for it after", async () => {
    const recorder = await startRecorder();
    const cad = await runSeen(recorder, { exe: CAD });
    recorder.setRules([rule("S01-2", "editor")]);
    const later = source.start({ exe: CAD });
    clock.advance(1_000);
    expect(await recorder.poll()).toMatchObject({ started: 0, ended: 0, open: 1 });
    source.stop(cad.pid);
    clock.advance(1_000);
    expect(await recorder.poll()).toMatchObject({ started: 0, ended: 1, open: 0 });
    expect((await stored()).map((s) => s.pid)).toEqual([cad.pid]);
    expect(later.pid).not.toBe(cad.pid);
  });

  it("starts a session with its real start for a process running when a rule comes", async () => {
    const recorder = await startRecorder([]);
    clock.advance(1);
    const cad = source.start({ exe: CAD });
    clock.advance(5_000);
    await recorder.poll();
    recorder.setRules([rule("S01-1", "cad")]);
    clock.advance(1_000);
    expect(await recorder.poll()).toMatchObject({ started: 1 });
    expect((await stored())[0]).toMatchObject({ startMs: cad.startMs, startNotCaptured: false });
  });

  it("finds the same starts again after a write that failed", async () => {
    const recorder = await startRecorder();
    const cad = source.start({ exe: CAD });
    clock.advance(1_000);
    writeError = () => new Error("database is locked");
    await expect(recorder.poll()).rejects.toThrow("locked");
    writeError = undefined;
    clock.advance(1_000);
    expect(await recorder.poll()).toMatchObject({ started: 1, open: 1 });
    expect((await stored()).map((s) => s.startMs)).toEqual([cad.startMs]);
  });

  it("keeps the runs of a full disk in memory, with their own times, until space returns", async () => {
    const recorder = await startRecorder();
    writeError = diskFullError;
    const brief = source.start({ exe: CAD });
    clock.advance(1_000);
    expect(await recorder.poll()).toMatchObject({ started: 1, open: 1 });
    source.stop(brief.pid);
    clock.advance(1_000);
    const briefEnd = clock.now();
    expect(await recorder.poll()).toMatchObject({ ended: 1, open: 0 });
    const long = source.start({ exe: EDITOR });
    clock.advance(1_000);
    await recorder.poll();
    expect(await stored()).toEqual([]);
    writeError = undefined;
    clock.advance(60_000);
    await recorder.poll();
    const sessions = await stored();
    expect(sessions.map((s) => [s.pid, s.startMs, s.endMs, s.endNotCaptured])).toEqual([
      [brief.pid, brief.startMs, briefEnd, false],
      [long.pid, long.startMs, null, false],
    ]);
  });
});
