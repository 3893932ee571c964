/**
 * Exact capture with the kernel's process events (an agent as root takes
 * them by default): runs far shorter than a poll (copies of `sleep` for 20
 * and 50 ms, every one of them, and copies of `/bin/true`, about half a
 * millisecond each) are captured as one session each, with a start and an
 * end inside the run's real bounds, measured here around `spawn` and `wait`.
 * The same agent as an unprivileged user cannot subscribe: it polls `/proc`,
 * and says so.
 *
 * @module
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  type MeteredSite,
  MeterProcess,
  type SiteHandle,
  startSite,
  startSiteWithAgent,
} from "./helpers/meter_process.ts";
import { copyProgram, copySleep, runProgram, uniqueName } from "./helpers/metered_program.ts";
import { addRule, makeToken, sessions } from "./helpers/site_api.ts";
import { addUser, removeUser, type SystemUser } from "./helpers/system_users.ts";
import { waitFor } from "./helpers/wait_for.ts";
import { agentSyncRounds } from "./helpers/sync_rounds.ts";

const isRoot = Deno.build.os === "linux" && Deno.uid() === 0;
/** Event times are converted from the kernel's clock, and stored as whole ms. */
const TOLERANCE_MS = 5;

/** Runs `path args` to its end; the times just before the spawn and just after the wait. */
async function timedRun(path: string, args: string[]) {
  const before = Date.now();
  const child = new Deno.Command(path, { args, stdout: "null", stderr: "null" }).spawn();
  await child.status;
  return { pid: child.pid, before, after: Date.now() };
}

describe.skipIf(!isRoot)(`process events${isRoot ? "" : " (skipped: needs root)"}`, () => {
  let m: MeteredSite;

  beforeAll(async () => {
    // A 1 s poll: every run below is far shorter, so polling would miss nearly all.
    m = await startSiteWithAgent({ poll: 1 });
  });

  afterAll(() => m?.stop());

  test("the agent says it takes process events", async () => {
    await waitFor(
      "the agent to name its process source",
      () => m.agent.logged("process source: kernel process events, with /proc scans").length === 1,
    );
  });

  test("runs of 20 and 50 ms are captured, each as one session inside its real bounds", async () => {
    const tiny = uniqueName("mtest-tiny");
    const short = uniqueName("mtest-short");
    const tinyRule = await addRule(m.site.url, m.admin, { name: "tiny", fileName: tiny });
    const shortRule = await addRule(m.site.url, m.admin, { name: "short", fileName: short });
    await waitFor(
      "the agent to receive the rules",
      () => m.agent.logged("rules loaded").some((e) => e.rules === 2),
    );
    const tinyPath = await copySleep(m.dir, tiny);
    const sleepPath = await copySleep(m.dir, short);
    const runs = [];
    for (let i = 0; i < 10; i++) {
      runs.push({ rule: tinyRule.id, ...await timedRun(tinyPath, ["0.02"]) });
      runs.push({ rule: shortRule.id, ...await timedRun(sleepPath, ["0.05"]) });
    }
    const found = [
      ...await capturedSessions(tinyRule.id),
      ...await capturedSessions(shortRule.id),
    ];
    expectExact(found, runs);
    // Each exec is read within milliseconds by a thread of its own: none is missed.
    expect(found).toHaveLength(runs.length);
    const fifty = found.filter((s) => s.ruleId === shortRule.id)
      .map((s) => Date.parse(s.end!) - Date.parse(s.start));
    for (const ms of fifty) expect(ms).toBeGreaterThanOrEqual(45);
  });

  test("runs of /bin/true, half a millisecond each, are captured as one session each", async () => {
    const name = uniqueName("mtest-true");
    const rule = await addRule(m.site.url, m.admin, { name: "true", fileName: name });
    await waitFor(
      "the agent to receive the rule",
      () => m.agent.logged("rules loaded").some((e) => e.rules === 3),
    );
    const path = await copyProgram("/bin/true", m.dir, name);
    const runs = [];
    for (let i = 0; i < 20; i++) runs.push({ rule: rule.id, ...await timedRun(path, []) });
    const found = await capturedSessions(rule.id);
    console.log(`process events: ${found.length} of ${runs.length} runs of /bin/true captured`);
    expectExact(found, runs);
    // A run this short is over before a thread woken by its exec event can read it when the
    // kernel is slow to wake that thread: measured here with a reader written in C, the wake-up
    // takes a median 80 µs but 2 ms at the 99th percentile, on a machine with spare cores. How
    // many are caught depends on the host's scheduling (at least half when this was written, 3 to 9 on
    // one evening, the code unchanged), so it is a benchmark's figure (`--agent-only`); here
    // every run caught must be exact, and some must be caught.
    expect(found.length).toBeGreaterThanOrEqual(1);
  });

  /** The sessions of `ruleId` at the site, once the agent has sent what it recorded. */
  async function capturedSessions(ruleId: string) {
    // Every run ended; two polls and a sync later, the agent has sent all it recorded.
    await agentSyncRounds(m.agent, "after the runs", { rounds: 3 });
    return await sessions(m.site.url, m.admin, { rule: ruleId });
  }
});

type Run = { pid: number; rule: string; before: number; after: number };
type Session = Awaited<ReturnType<typeof sessions>>[number];

/** Each session is one of `runs`, once, with its start and end inside the run's real bounds. */
function expectExact(found: Session[], runs: Run[]): void {
  const byPid = new Map(runs.map((run) => [run.pid, run]));
  for (const session of found) {
    const run = byPid.get(session.pid);
    expect(run, `a session of pid ${session.pid}, which this test did not run`).toBeDefined();
    expect(found.filter((s) => s.pid === session.pid)).toHaveLength(1);
    const { start, end, ruleId, startNotCaptured, endNotCaptured } = session;
    expect(ruleId).toBe(run!.rule);
    expect(startNotCaptured || endNotCaptured).toBe(false);
    expect(Date.parse(start)).toBeGreaterThanOrEqual(run!.before - TOLERANCE_MS);
    expect(Date.parse(end!)).toBeLessThanOrEqual(run!.after + TOLERANCE_MS);
    expect(Date.parse(end!)).toBeGreaterThanOrEqual(Date.parse(start));
  }
}

describe.skipIf(!isRoot)("without root", () => {
  let user: SystemUser;
  let dir: string;
  let site: SiteHandle;
  let admin: string;
  let agent: MeterProcess;

  beforeAll(async () => {
    user = await addUser(uniqueName("mpoll").replace(/-/g, ""));
    dir = await Deno.makeTempDir({ prefix: "meter-unprivileged-" });
    await Deno.chmod(dir, 0o755);
    // A site without an agent of its own: every session it holds is the unprivileged agent's.
    site = await startSite(dir);
    admin = await makeToken(site.db, "admin");
  });

  afterAll(async () => {
    await agent?.stop();
    await site?.process.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    if (user) await removeUser(user.name);
  });

  test("the agent polls /proc, says why, and meters its user's programs", async () => {
    const main = new URL("../main.ts", import.meta.url).pathname;
    const token = await makeToken(site.db, "enroll");
    const home = join(dir, "home");
    await Deno.mkdir(home);
    await Deno.chown(home, user.uid, user.gid);
    agent = new MeterProcess([], {}, () =>
      new Deno.Command("setpriv", {
        args: [
          `--reuid=${user.uid}`,
          `--regid=${user.gid}`,
          "--clear-groups",
          "env",
          `HOME=${home}`,
          `DENO_DIR=${join(home, "deno")}`,
          "METER_LOG_LEVEL=debug",
          Deno.execPath(),
          "run",
          "-A",
          main,
          "agent",
          "--site",
          site.url,
          "--db",
          join(home, "agent.db"),
          "--poll",
          "0.5",
          "--sync-delay",
          "0.5",
          "--enroll-token",
          token,
        ],
        stdout: "piped",
        stderr: "piped",
      }).spawn());
    const [line] = await waitFor(
      `the agent to name its process source\n${agent.tail()}`,
      () => {
        const lines = agent.logged("process source: /proc polling (process events unavailable)");
        return lines.length > 0 ? lines : undefined;
      },
      { timeoutMs: 60_000 },
    );
    expect(String(line.reason)).toMatch(/Operation not permitted|EPERM|permission/i);
    const name = uniqueName("mtest-polled");
    const rule = await addRule(site.url, admin, { name: "polled", fileName: name });
    const run = runProgram(await copySleep(dir, name), 2, { user });
    await run.ended;
    const [session] = await waitFor(
      `the polled run to reach the site\n${agent.tail()}`,
      async () => {
        const found = await sessions(site.url, admin, { rule: rule.id });
        return found.length > 0 && found[0].end !== null ? found : undefined;
      },
      { timeoutMs: 60_000 },
    );
    expect(session).toMatchObject({ pid: run.pid, user: user.name });
  });
});
