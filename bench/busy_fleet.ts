/**
 * A fleet at a real fleet's pace, for the large-site load: each simulated
 * agent behaves as the real agent set up by default does. Its user starts
 * programs at random (a busy client's day: 120 sessions in eight hours),
 * each running some minutes; the agent syncs a few seconds after a session
 * starts or ends, and otherwise when the site's last answer said
 * (`syncAfter`, five minutes). Between syncs it waits for new rules
 * (`GET /v1/sync/wait`) on the version the site gave, asking again as each
 * answer says. Time is real: a run of minutes is minutes of a working day.
 *
 * Agents share a few hundred connection pools, not one each: a pool costs
 * the driver some 150 KB and a file, and 50,000 of them do not fit in one
 * process. Every request's outcome is kept by the {@linkcode Recorder} of
 * `load_fleet.ts`; rule waits are counted apart.
 *
 * @module
 */
import { SeededRandom } from "../lib/seeded_random.ts";
import { DAY_MS, dayStart } from "../model/doc_id.ts";
import { type RulesWaitReply, SyncError, waitForRules } from "../sync/mod.ts";
import { drain, type FleetRun, type Member, Recorder, sleepUntil } from "./load_fleet.ts";
import type { SimulatedAgent } from "./simulated_agent.ts";

export interface BusyFleetOptions {
  seconds: number;
  /** Sessions a busy agent starts an hour: a day's 120 in eight hours by default. */
  sessionsPerHour?: number;
  /** Mean run time of a session, minutes (10). */
  sessionMinutes?: number;
  /** How long after a session starts or ends an agent syncs, as the real agent's default (5). */
  syncDelaySeconds?: number;
  /** How long each rule wait asks the site to hold it (the real agent's 50). */
  waitSeconds?: number;
  /** Connection pools the agents share (256). */
  pools?: number;
  drainTimeoutSeconds?: number;
  seed?: number;
  /** Seconds into the load at which `changeRules` is called, to time how soon agents hear. */
  ruleChangeAtSeconds?: number;
  /** Changes the rules at the site (e.g. adds one), at `ruleChangeAtSeconds`. */
  changeRules?: () => Promise<void>;
}

/** The rule waits of a run: how many were answered, how, and how many the site held. */
export interface RuleWaits {
  answered: number;
  /** Answers that said the rules changed. */
  changed: number;
  /** Answers that came at once with a time to ask again: the site held as many as it allows. */
  notHeld: number;
  rateLimited: number;
  failed: number;
  /** For each agent whose sync brought the changed rules, how long after the change, ms. */
  heardMs: number[];
}

export interface BusyFleetRun extends FleetRun {
  waits: RuleWaits;
}

/** When the site says nothing, as the real agent's default. */
const DEFAULT_SYNC_AFTER_SECONDS = 300;

/** The moment the rules changed (`performance.now()`), once they have. */
interface RuleChange {
  at: number | undefined;
}

interface BusyMember extends Member {
  /** When its user next starts a program (`performance.now()`). */
  nextStart: number;
  /** When its running sessions end, soonest first. */
  ends: number[];
  /** When it syncs next. */
  syncAt: number;
  /** A sync begun after the rules changed brought it the new rules. */
  heard: boolean;
  /** Cuts its sleep short: it must sync sooner than it planned. */
  wake?: () => void;
  /** Lets its waits go on: a sync gave it the rules' version to wait on. */
  versionArrived?: () => void;
}

/** Runs the fleet against `site` for `options.seconds`, then drains it. */
export async function runBusyFleet(
  site: string,
  agents: SimulatedAgent[],
  options: BusyFleetOptions,
): Promise<BusyFleetRun> {
  const o = {
    sessionsPerHour: 15,
    sessionMinutes: 10,
    syncDelaySeconds: 5,
    waitSeconds: 50,
    pools: 256,
    ...options,
  };
  const random = new SeededRandom(o.seed ?? 7);
  const run = new Recorder(site);
  const waits: RuleWaits = {
    answered: 0,
    changed: 0,
    notHeld: 0,
    rateLimited: 0,
    failed: 0,
    heardMs: [],
  };
  const change: RuleChange = { at: undefined };
  const deadline = run.started + o.seconds * 1000;
  // As the real agent's, they keep an idle connection a few seconds (`lib/trusted_fetch.ts`).
  const pools = Array.from(
    { length: o.pools },
    () => Deno.createHttpClient({ poolIdleTimeout: 5_000 }),
  );
  const members = agents.map((agent, i) =>
    busyMember(agent, pools[i % pools.length], random.fork(i), o)
  );
  try {
    await Promise.all([
      ...members.flatMap((m) => [
        agentLoop(m, run, { waits, change }, deadline, o),
        waitLoop(site, m, run, waits, deadline, o),
      ]),
      changeRulesOnce(o, run.started, change),
    ]);
    run.loadSeconds = (deadline - run.started) / 1000;
    run.undelivered = await drain(members, run, o.drainTimeoutSeconds ?? 60);
    run.drainSeconds = (performance.now() - deadline) / 1000;
  } finally {
    for (const pool of pools) pool.close();
  }
  return { ...run.result(), waits };
}

function busyMember(
  agent: SimulatedAgent,
  http: Deno.HttpClient,
  random: SeededRandom,
  o: Required<Pick<BusyFleetOptions, "sessionsPerHour">>,
): BusyMember {
  const now = performance.now();
  return {
    agent,
    http,
    random,
    pendingSessions: 0,
    pendingUpdates: 0,
    dayBegan: now - (Date.now() - dayStart(agent.day)),
    dayEnds: Infinity,
    nextStart: now + exponential(random, 3_600_000 / o.sessionsPerHour),
    ends: [],
    // In a steady fleet the last sync was any time in the last interval.
    syncAt: now + random.next() * DEFAULT_SYNC_AFTER_SECONDS * 1000,
    heard: false,
  };
}

/** One agent while the load lasts: its user's programs start and end, and it syncs. */
async function agentLoop(
  m: BusyMember,
  run: Recorder,
  { waits, change }: { waits: RuleWaits; change: RuleChange },
  deadline: number,
  o: Required<Pick<BusyFleetOptions, "sessionMinutes" | "sessionsPerHour" | "syncDelaySeconds">>,
): Promise<void> {
  while (true) {
    await sleepOrWake(m, Math.min(m.nextStart, m.ends[0] ?? Infinity, m.syncAt, deadline));
    const now = performance.now();
    if (now >= deadline) return;
    let news = false;
    while (m.nextStart <= now) {
      record(m, { ended: 0, started: 1, ending: 0 });
      m.ends.push(now + exponential(m.random, o.sessionMinutes * 60_000));
      m.ends.sort((a, b) => a - b);
      m.nextStart += exponential(m.random, 3_600_000 / o.sessionsPerHour);
      news = true;
    }
    while (m.ends.length > 0 && m.ends[0] <= now) {
      m.ends.shift();
      record(m, { ended: 0, started: 0, ending: 1 });
      news = true;
    }
    if (news) m.syncAt = Math.min(m.syncAt, now + o.syncDelaySeconds * 1000);
    if (now < m.syncAt) continue;
    const changedBefore = change.at !== undefined;
    const reply = await run.sync(m, true);
    const after = reply?.syncAfter ?? DEFAULT_SYNC_AFTER_SECONDS;
    m.syncAt = performance.now() + after * 1000;
    if (m.agent.rulesVersion) m.versionArrived?.();
    if (reply && changedBefore && !m.heard) {
      m.heard = true;
      waits.heardMs.push(performance.now() - change.at!);
    }
  }
}

/** Sleeps until `at`, or until `m.wake` is called. */
function sleepOrWake(m: BusyMember, at: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, Math.max(0, at - performance.now()));
    m.wake = done;
    function done() {
      clearTimeout(timer);
      m.wake = undefined;
      resolve();
    }
  });
}

function record(m: BusyMember, flush: { ended: number; started: number; ending: number }): void {
  // The day's document takes what happens until its last minute: a run is never that long.
  const now = Math.min(Date.now(), dayStart(m.agent.day) + DAY_MS - 60_000);
  const writes = m.agent.record(flush, now);
  m.pendingSessions += flush.ended + flush.started;
  m.pendingUpdates += writes - flush.ended - flush.started;
}

/** Calls `changeRules` at its moment, once. */
async function changeRulesOnce(o: BusyFleetOptions, started: number, change: RuleChange) {
  if (o.ruleChangeAtSeconds === undefined || !o.changeRules) return;
  await sleepUntil(started + o.ruleChangeAtSeconds * 1000);
  await o.changeRules();
  // The rules are stored by now: an agent told of the change after this heard of it.
  change.at = performance.now();
}

/** The agent's waits for new rules, each as the site's last answer said. */
async function waitLoop(
  site: string,
  m: BusyMember,
  run: Recorder,
  waits: RuleWaits,
  deadline: number,
  o: Required<Pick<BusyFleetOptions, "waitSeconds" | "syncDelaySeconds">>,
): Promise<void> {
  // Agents began waiting at moments of their own.
  await sleepUntil(Math.min(deadline, performance.now() + m.random.next() * 55_000));
  while (performance.now() < deadline) {
    const version = m.agent.rulesVersion;
    if (!version) {
      // Until a sync gives it one: a timer a second for each of 50,000 agents would busy the driver.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, deadline - performance.now()));
        m.versionArrived = () => {
          clearTimeout(timer);
          m.versionArrived = undefined;
          resolve();
        };
      });
      continue;
    }
    // A wait shorter than a second would be answered at once: the load is over by then.
    const seconds = Math.floor(Math.min(o.waitSeconds, (deadline - performance.now()) / 1000));
    if (seconds < 1) return;
    const reply = await oneWait(site, m, version, seconds, run, waits);
    if (reply?.changed) {
      // The next sync brings the rules and the version to wait on next.
      m.agent.rulesVersion = undefined;
      m.syncAt = Math.min(m.syncAt, performance.now() + o.syncDelaySeconds * 1000);
      m.wake?.();
    }
    const rest = reply ? reply.waitAgainAfter * 1000 : 60_000;
    await sleepUntil(Math.min(deadline, performance.now() + rest));
  }
}

async function oneWait(
  site: string,
  m: BusyMember,
  version: string,
  seconds: number,
  run: Recorder,
  waits: RuleWaits,
): Promise<RulesWaitReply | undefined> {
  const client = m.http;
  try {
    const reply = await waitForRules({
      site,
      authorization: m.agent.authorization,
      rulesVersion: version,
      seconds,
      fetch: (input, init) => fetch(input, { ...init, client }),
    });
    waits.answered++;
    if (reply.changed) waits.changed++;
    else if (reply.waitAgainAfter > 0) waits.notHeld++;
    return reply;
  } catch (error) {
    const status = error instanceof SyncError ? error.status : undefined;
    if (status === 429) waits.rateLimited++;
    else waits.failed++;
    run.failed({
      kind: status === 429 ? "429" : `wait ${status ?? "network"}`,
      message: (error as Error).message,
    });
    return undefined;
  }
}

/** A random wait with the given mean, as between independent events. */
function exponential(random: SeededRandom, meanMs: number): number {
  return -Math.log(1 - random.next()) * meanMs;
}
