/**
 * The agent killed with SIGKILL at random moments, many times in a row,
 * while real programs start and stop: at the site, every run appears at most
 * once (matched by pid and start); every run the agent had a chance to see
 * (it overlapped a stretch where an agent was polling) is there; and the
 * flags tell the truth about the gaps: `startNotCaptured` exactly when no
 * agent was running at the program's start, `endNotCaptured` exactly when
 * none was running at its end (then closed at the last moment an agent saw
 * it), times otherwise within a poll of the real ones. A run that started
 * and ended while no agent ran is invisible, and may be missing.
 *
 * Each cycle either kills the agent during its start-up (recovering its
 * database, its first poll) or lets it settle and kills it a random moment
 * later; then, while no agent runs, a program seen running is stopped and a
 * new one started, and background programs of random lengths start all the
 * time. `tests/e2e_agent_faults.test.ts` shows one kill step by step; this is
 * the same under a random plan, from a seed printed at the start
 * (`METER_FAULT_SEED` replays it).
 */
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
import { SeededRandom } from "../lib/seeded_random.ts";
import { addRule, makeToken, sessions } from "./helpers/site_api.ts";
import { sleep, waitFor } from "./helpers/wait_for.ts";
import type { SessionOutput } from "../model/session_output.ts";

const SEED = Number(Deno.env.get("METER_FAULT_SEED") ?? Math.floor(Math.random() * 2 ** 31));
const POLL_MS = 300;
/** Slack for a poll or a timer running late on a loaded machine. */
const SLACK_MS = 1_000;
/** How stale the agent's stored last-seen time may be (`LAST_SEEN_EVERY_MS`). */
const LAST_SEEN_MS = 5_000;
/**
 * A poll stamps its sight of a process when it has read `/proc`, which can be
 * a few ms after the process exited (a run once ended 2 ms "after" its exit).
 */
const STAMP_MS = 50;

/** One agent process and the moments that bound what it saw. */
interface Instance {
  process: MeterProcess;
  /** Before it was spawned: nothing it records started being seen earlier. */
  spawnAt: number;
  /** Just before the kill: it saw nothing later. */
  killAt: number;
  /** After it died. */
  deadAt: number;
}

interface Run {
  program: RunningProgram;
  /** Before the spawn: the process started after this. */
  start: number;
  /** The process exited in [exitAfter, exitBefore]. */
  exitAfter: number;
  exitBefore: number;
}

/** A settled stretch: the agent polled at least every `POLL_MS + SLACK_MS` in it. */
interface Steady {
  from: number;
  to: number;
}

describe("the agent killed at random moments while programs start and stop", () => {
  let temp: Awaited<ReturnType<typeof tempDir>>;
  let site: SiteHandle;
  let admin: string;
  let ruleId: string;
  let program: string;
  let agentDb: string;
  let agent: MeterProcess;
  const random = new SeededRandom(SEED);
  const runs: Run[] = [];

  beforeAll(async () => {
    console.log(`e2e_agent_kill: seed ${SEED} (METER_FAULT_SEED=${SEED} runs this plan again)`);
    temp = await tempDir();
    site = await startSite(temp.dir);
    admin = await makeToken(site.db, "admin");
    const name = uniqueName("mtest-kill");
    program = await copySleep(temp.dir, name);
    ruleId = (await addRule(site.url, admin, { name: "Agent kill test", fileName: name })).id;
    agentDb = join(temp.dir, "agent.db");
  });

  afterAll(async () => {
    for (const run of runs) stopQuietly(run.program);
    await agent?.kill();
    await site?.process.stop();
    await temp?.remove();
  });

  const spawn = () =>
    startAgent(site.url, { db: agentDb, poll: POLL_MS / 1000, interval: 2, syncDelay: 0.3 });

  /** When an agent has settled: started, and its first inventory (which holds the thread) taken. */
  function settledAt(process: MeterProcess): number | undefined {
    const started = process.logged("agent started")[0];
    const inventory = process.logged("inventory taken")[0];
    if (!started || !inventory) return undefined;
    return Math.max(
      Date.parse(started.time as string) + 1_500,
      Date.parse(inventory.time as string) + 300,
    );
  }

  test("no run is lost or duplicated beyond what the flags declare", async () => {
    const first = startAgent(site.url, {
      db: agentDb,
      enrollToken: await makeToken(site.db, "enroll"),
      poll: POLL_MS / 1000,
      interval: 2,
      syncDelay: 0.3,
    });
    agent = first;
    let spawnAt = Date.now();
    await waitFor(
      "the first agent to receive the rule",
      () => first.logged("rules loaded").some((e) => e.rules === 1),
    );

    const start = (seconds: number): Run => {
      const run: Run = {
        program: runProgram(program, seconds),
        start: 0,
        exitAfter: 0,
        exitBefore: Infinity,
      };
      run.start = run.program.startedAt;
      run.exitAfter = run.start + seconds * 1000;
      run.program.ended.then((at) => run.exitBefore = at);
      runs.push(run);
      return run;
    };
    const stop = async (run: Run) => {
      run.exitAfter = Date.now();
      run.program.kill();
      await run.program.ended;
    };

    // Background programs of random lengths, all the time.
    let chaos = true;
    const backgroundRandom = new SeededRandom(SEED + 1);
    const background = (async () => {
      while (chaos) {
        start(0.2 + backgroundRandom.below(38) / 10);
        await sleep(150 + backgroundRandom.below(750));
      }
    })();

    const instances: Instance[] = [];
    const kills = 6 + random.below(3);
    let startupKills = 0;
    /** A program started while one agent polled, stopped while a later one does. */
    let carried: Run | undefined;
    const settle = async () => {
      const at = await waitFor("the agent to settle", () => settledAt(agent), {
        timeoutMs: 30_000,
      });
      await sleep(at - Date.now());
    };
    try {
      for (let i = 0; i < kills; i++) {
        let seenRunning: Run | undefined;
        if (i > 0 && random.next() < 0.3) {
          // During start-up: opening the database, recovering, the first poll.
          startupKills++;
          await sleep(100 + random.below(1_200));
        } else {
          await settle();
          if (carried) await stop(carried);
          carried = start(60);
          seenRunning = start(60);
          start(0.3); // starts and ends while this agent polls
          await sleep(2_000 + random.below(1_500));
        }
        const killAt = Date.now();
        await agent.kill();
        instances.push({ process: agent, spawnAt, killAt, deadAt: Date.now() });
        // No agent runs now: one program seen running ends, a new one starts.
        if (seenRunning) await stop(seenRunning);
        start(2 + random.below(40) / 10);
        await sleep(300 + random.below(700));
        spawnAt = Date.now();
        agent = spawn();
      }
    } finally {
      chaos = false;
      await background;
    }
    const last = agent;
    await settle();
    if (carried) await stop(carried);
    for (const run of runs) await run.program.ended;
    const lastSpawn = spawnAt;

    const steady: Steady[] = [
      ...instances.map((x) => ({ process: x.process, to: x.killAt })),
      { process: last, to: Infinity },
    ].flatMap(({ process, to }) => {
      const from = settledAt(process);
      return from !== undefined && from < to ? [{ from, to }] : [];
    });
    /** No agent process existed in these stretches. */
    const gaps = instances.map((x, j) => ({
      from: x.deadAt,
      to: instances[j + 1]?.spawnAt ?? lastSpawn,
    }));
    const overlap = (a: number, b: number, s: Steady) =>
      Math.max(0, Math.min(b, s.to) - Math.max(a, s.from));
    /** An agent certainly polled while the run was running. */
    const mustBeSeen = (r: Run) =>
      steady.some((s) => overlap(r.start, r.exitAfter, s) >= POLL_MS + SLACK_MS);
    /** An agent certainly polled between these moments (before and after a start or an exit). */
    const polledAfter = (from: number, to: number) =>
      steady.some((s) => from >= s.from && to <= s.to - POLL_MS - SLACK_MS);
    const inGap = (from: number, to: number) => gaps.some((g) => from > g.from && to < g.to);

    const required = runs.filter(mustBeSeen);
    // Waiting for what should come; if it never does, the checks below say what is wrong.
    const found = await waitFor("every run an agent saw at the site, ended", async () => {
      const rows = await sessions(site.url, admin, { rule: ruleId });
      const ended = rows.every((s) => s.end !== null);
      return ended && required.every((r) => rows.some((s) => matches(s, r))) ? rows : undefined;
    }, { timeoutMs: 30_000 }).catch(() => undefined);
    // Later syncs change nothing.
    const marker = last.logs.length;
    await waitFor(
      "two more syncs",
      () => last.logs.slice(marker).filter((l) => l.includes('"synced"')).length >= 2,
    );
    const rows = await sessions(site.url, admin, { rule: ruleId });
    if (found) expect(rows).toEqual(found);

    const checked = { startInGap: 0, endInGap: 0, startSeen: 0, endSeen: 0 };
    for (const s of rows) {
      const matching = runs.filter((r) => matches(s, r));
      expect(matching, `session ${s.id} (pid ${s.pid}) is one run of the test`).toHaveLength(1);
      expect(s.end, `session ${s.id} (pid ${s.pid}) has ended`).not.toBeNull();
    }
    for (const run of runs) {
      const what = `the run of pid ${run.program.pid} started ${iso(run.start)}, exited by ` +
        `${iso(run.exitBefore)}`;
      const mine = rows.filter((s) => matches(s, run));
      expect(mine.length, `${what}: at most one session`).toBeLessThanOrEqual(1);
      if (mustBeSeen(run)) expect(mine, `${what}: an agent saw it`).toHaveLength(1);
      const [s] = mine;
      if (!s) continue;
      const start = Date.parse(s.start);
      const end = Date.parse(s.end!);
      // From the kernel: exact whichever way it was seen.
      expect(Math.abs(start - run.start), `${what}: its start`).toBeLessThan(1_000);
      if (inGap(run.start, run.start + 300)) {
        checked.startInGap++;
        expect(s.startNotCaptured, `${what}: started with no agent running`).toBe(true);
      } else if (polledAfter(run.start, run.start)) {
        checked.startSeen++;
        expect(s.startNotCaptured, `${what}: started while an agent polled`).toBe(false);
      }
      if (inGap(run.exitAfter, run.exitBefore)) {
        checked.endInGap++;
        expect(s.endNotCaptured, `${what}: ended with no agent running`).toBe(true);
      } else if (polledAfter(run.exitAfter, run.exitBefore)) {
        checked.endSeen++;
        expect(s.endNotCaptured, `${what}: ended while an agent polled`).toBe(false);
      }
      if (s.endNotCaptured) {
        // Closed at the last moment an agent saw it, which is at most a few
        // seconds before the last settled agent before its end was killed.
        const lastSteady = steady.filter((x) => x.to <= run.exitBefore).at(-1);
        expect(end, `${what}: closed before its real end`)
          .toBeLessThanOrEqual(run.exitBefore + STAMP_MS);
        if (lastSteady && start < lastSteady.to) {
          expect(end, `${what}: closed at the last moment seen`).toBeGreaterThanOrEqual(
            lastSteady.to - LAST_SEEN_MS - POLL_MS - SLACK_MS,
          );
        }
      } else {
        expect(end, `${what}: its end`).toBeGreaterThanOrEqual(run.exitAfter - 200);
        expect(end, `${what}: its end`).toBeLessThanOrEqual(run.exitBefore + POLL_MS + SLACK_MS);
      }
    }
    console.log(
      `e2e_agent_kill: seed ${SEED}, ${instances.length} kills (${startupKills} during ` +
        `start-up), ${runs.length} runs, ${rows.length} sessions, ${required.length} ` +
        `certainly seen; flags checked: ${JSON.stringify(checked)}`,
    );
    // The plan makes each case happen, so the checks above are never vacuous.
    expect(checked.startInGap).toBeGreaterThan(0);
    expect(checked.endInGap).toBeGreaterThan(0);
    expect(checked.startSeen).toBeGreaterThan(0);
    expect(checked.endSeen).toBeGreaterThan(0);
  });
});

/** The session of a run: same pid, started within a second (the kernel's start time). */
function matches(s: SessionOutput, r: Run): boolean {
  return s.pid === r.program.pid && Math.abs(Date.parse(s.start) - r.start) < 1_000;
}

const iso = (ms: number) => Number.isFinite(ms) ? new Date(ms).toISOString() : String(ms);

/** Stops a program still running; one that has ended is left as it is. */
function stopQuietly(run: RunningProgram): void {
  try {
    run.kill();
  } catch {
    // it has ended already
  }
}
