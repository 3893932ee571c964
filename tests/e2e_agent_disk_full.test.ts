/**
 * A full disk under the agent's database (a small tmpfs made for the test,
 * filled with a filler file): the agent keeps running, says so once in its
 * JSON-lines log (level `error`, "disk full: ..."), keeps in memory the runs
 * that start and stop meanwhile, and when space returns stores them, says so
 * (level `info`, "disk space back: ..."), syncs them, and goes on metering.
 * Every run is at the site once, with its real start and end and no flag:
 * one that ended during the full disk, one that started and ended in it,
 * one that started in it and ended after, and one after. Stopped while the
 * disk is full, it still stops cleanly (what it held in memory is lost).
 *
 * Needs `mount` (root): without it the test is skipped, except in CI
 * (`CI` set), where it runs and fails.
 */
import { createClient } from "@libsql/client";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { join } from "node:path";
import {
  copySleep,
  type RunningProgram,
  runProgram,
  tempDir,
  uniqueName,
} from "./helpers/metered_program.ts";
import {
  type MeterProcess,
  type SiteHandle,
  startAgent,
  startSite,
} from "./helpers/meter_process.ts";
import { addRule, makeToken, sessions } from "./helpers/site_api.ts";
import { waitFor } from "./helpers/wait_for.ts";
import type { SessionOutput } from "../model/session_output.ts";

const POLL_MS = 300;
/** A poll running late on a loaded machine. */
const SLACK_MS = 1_000;

async function run(program: string, ...args: string[]): Promise<{ ok: boolean; text: string }> {
  const out = await new Deno.Command(program, { args, stdout: "piped", stderr: "piped" }).output();
  const decoder = new TextDecoder();
  return { ok: out.success, text: decoder.decode(out.stdout) + decoder.decode(out.stderr) };
}

async function mountTmpfs(dir: string, size: string): Promise<void> {
  const result = await run("mount", "-t", "tmpfs", "-o", `size=${size},mode=0700`, "tmpfs", dir);
  if (!result.ok) throw new Error(`mount tmpfs on ${dir}: ${result.text.trim()}`);
}

async function unmount(dir: string): Promise<void> {
  if ((await run("umount", dir)).ok) return;
  await run("umount", "-l", dir);
}

/** Can this process mount a filesystem? (Tried on a throwaway folder.) */
async function canMount(): Promise<boolean> {
  const dir = await Deno.makeTempDir({ prefix: "meter-mount-probe-" });
  try {
    await mountTmpfs(dir, "64k");
    await unmount(dir);
    return true;
  } catch {
    return false;
  } finally {
    await Deno.remove(dir).catch(() => {});
  }
}

/** Writes `path` until the filesystem has no byte left. */
async function fill(path: string): Promise<number> {
  const file = await Deno.open(path, { create: true, write: true, truncate: true });
  let written = 0;
  try {
    for (const size of [1 << 20, 4096, 1]) {
      const chunk = new Uint8Array(size).fill(0x55);
      try {
        for (;;) written += file.writeSync(chunk);
      } catch (error) {
        if (!/no space left/i.test((error as Error).message)) throw error;
      }
    }
  } finally {
    file.close();
  }
  return written;
}

const mountable = await canMount();
const inCi = Boolean(Deno.env.get("CI"));
if (!mountable && !inCi) {
  console.warn("e2e_agent_disk_full: skipped: this process may not mount a tmpfs (run as root)");
}

describe.skipIf(!mountable && !inCi)("the agent's disk full", () => {
  let temp: Awaited<ReturnType<typeof tempDir>>;
  let disk: string;
  let mounted = false;
  let site: SiteHandle;
  let agent: MeterProcess | undefined;
  let admin: string;
  let ruleId: string;
  let program: string;
  let agentDb: string;
  /** Every program started, stopped at the end whatever happened. */
  const runs: RunningProgram[] = [];
  const start = (seconds: number) => {
    const run = runProgram(program, seconds);
    runs.push(run);
    return run;
  };

  beforeAll(async () => {
    temp = await tempDir();
    disk = join(temp.dir, "agent-disk");
    await Deno.mkdir(disk);
    await mountTmpfs(disk, "32m");
    mounted = true;
    agentDb = join(disk, "agent.db");
    site = await startSite(temp.dir);
    admin = await makeToken(site.db, "admin");
    const name = uniqueName("mtest-full");
    program = await copySleep(temp.dir, name);
    ruleId = (await addRule(site.url, admin, { name: "Disk full test", fileName: name })).id;
  });

  afterAll(async () => {
    try {
      for (const run of runs) stopQuietly(run);
      await agent?.stop();
      await site?.process.stop();
    } finally {
      if (mounted) await unmount(disk);
      await temp?.remove();
    }
  });

  const options = () => ({ db: agentDb, poll: POLL_MS / 1000, interval: 2, syncDelay: 0.3 });
  const syncs = (a: MeterProcess) => a.logs.filter((l) => l.includes('"synced"')).length;
  const siteRows = () => sessions(site.url, admin, { rule: ruleId });

  test("keeps running, keeps what it sees, and delivers it when space returns", async () => {
    // Enrolled, rules and a first inventory stored; then stopped and started
    // again, so its write-ahead log starts empty: a log grown earlier has
    // room SQLite reuses, and the full disk would show only much later.
    const first = startAgent(site.url, {
      ...options(),
      enrollToken: await makeToken(site.db, "enroll"),
    });
    agent = first;
    await waitFor(
      "the first agent's rules and inventory",
      () =>
        first.logged("rules loaded").some((e) => e.rules === 1) &&
        first.logged("inventory taken").length > 0,
    );
    await waitFor("a sync after the inventory", () => {
      const at = first.logs.findIndex((l) => l.includes('"inventory taken"'));
      return first.logs.slice(at).some((l) => l.includes('"synced"'));
    });
    await first.stop();
    agent = startAgent(site.url, options());
    const a = agent;
    await waitFor("the agent to settle", () => a.logged("inventory taken").length > 0);
    const settled = syncs(a);
    await waitFor("a sync", () => syncs(a) > settled);

    const before = start(60);
    await waitFor("the run started before the disk fills, at the site", async () => {
      return (await siteRows()).some((s) => matches(s, before));
    });

    // The disk fills up. The agent finds out at its next write: the run that
    // starts now (or, should the log's last page still have had room, the
    // last-seen time it stores every few seconds).
    const filler = join(disk, "filler");
    const filled = await fill(filler);
    const across = start(60);
    await waitFor(
      "the agent to log the full disk",
      () => a.logged("disk full: usage kept in memory until space returns").length > 0,
    );
    const during = start(1.5);
    const duringEnded = await during.ended;
    before.kill();
    const beforeEnded = await before.ended;
    // It goes on: its sync loop logs again (failing or not, as it needs to
    // write or not) well after both ends, so it has polled them meanwhile.
    await waitFor("a sync well after both ends", () =>
      a.logs.some((line) => {
        const entry = parse(line);
        return /^sync(ed| failed)$/.test(String(entry?.msg)) &&
          Date.parse(String(entry?.time)) > beforeEnded + POLL_MS + SLACK_MS;
      }));
    expect(a.exited, `the agent is still running:\n${a.tail()}`).toBe(false);

    // Space returns.
    await Deno.remove(filler);
    await waitFor(
      "the agent to store what it kept",
      () => a.logged("disk space back: usage kept in memory stored").length > 0,
    );
    const after = start(1.5);
    const afterEnded = await after.ended;
    across.kill();
    const acrossEnded = await across.ended;

    // Waiting for what should come; if it never does, the checks below say what is missing.
    const rows = await waitFor("all four runs at the site, ended", async () => {
      const rows = await siteRows();
      return rows.length >= 4 && rows.every((s) => s.end) ? rows : undefined;
    }).catch(siteRows);
    const expected: [string, RunningProgram, number][] = [
      ["ended while the disk was full", before, beforeEnded],
      ["started and ended while the disk was full", during, duringEnded],
      ["started while the disk was full, ended after", across, acrossEnded],
      ["after", after, afterEnded],
    ];
    for (const [what, run, ended] of expected) {
      const mine = rows.filter((s) => matches(s, run));
      expect(mine, `the run ${what}: one session`).toHaveLength(1);
      const [s] = mine;
      expect(s.startNotCaptured, `the run ${what}: start seen`).toBe(false);
      expect(s.endNotCaptured, `the run ${what}: end seen`).toBe(false);
      expect(Math.abs(Date.parse(s.end!) - ended), `the run ${what}: its end`)
        .toBeLessThan(POLL_MS + SLACK_MS);
    }
    expect(rows).toHaveLength(expected.length);

    const full = a.logged("disk full: usage kept in memory until space returns");
    expect(full).toHaveLength(1);
    expect(full[0]).toMatchObject({ level: "error" });
    expect(String(full[0].error)).toMatch(/SQLITE_FULL|disk is full/);
    const back = a.logged("disk space back: usage kept in memory stored");
    expect(back[0]).toMatchObject({ level: "info" });
    // At least the start and end of the run in the middle, and the end of the one before.
    expect(back[0].started).toBeGreaterThanOrEqual(1);
    expect(back[0].ended).toBeGreaterThanOrEqual(2);
    expect(a.exited).toBe(false);
    console.log(
      `e2e_agent_disk_full: filler ${filled} bytes; held ${back[0].started} starts and ` +
        `${back[0].ended} ends for ${back[0].fullSeconds} s`,
    );
  });

  test("stops cleanly while the disk is full", async () => {
    await agent?.stop();
    // Syncs far apart, so the run below is stored but not yet written into
    // its usage document when the agent stops: that last write finds the disk full.
    agent = startAgent(site.url, { ...options(), interval: 600, syncDelay: 600 });
    const a = agent;
    await waitFor("the agent to settle", () => a.logged("inventory taken").length > 0);
    const run = start(60);
    await waitFor("the agent to store the run's start in its database", async () => {
      const db = createClient({ url: `file:${agentDb}` });
      try {
        const found = await db.execute({
          sql: "SELECT 1 FROM agent_sessions WHERE pid = ? AND end_ms IS NULL",
          args: [run.pid],
        });
        return found.rows.length > 0;
      } finally {
        db.close();
      }
    });
    const filler = join(disk, "filler");
    await fill(filler);
    try {
      await a.stop();
      expect((await a.status).code, a.tail()).toBe(0);
      expect(a.logged("agent stopped")).toHaveLength(1);
      expect(a.logged("could not store the last usage before stopping")).toHaveLength(1);
    } finally {
      await Deno.remove(filler);
    }
  });
});

function parse(line: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}

/** The session of a run: same pid, started within a second (the kernel's start time). */
function matches(s: SessionOutput, r: RunningProgram): boolean {
  return s.pid === r.pid && Math.abs(Date.parse(s.start) - r.startedAt) < 1_000;
}

/** Stops a program still running; one that has ended is left as it is. */
function stopQuietly(run: RunningProgram): void {
  try {
    run.kill();
  } catch {
    // it has ended already
  }
}
