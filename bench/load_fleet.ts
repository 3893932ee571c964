/**
 * A fleet of simulated agents syncing with a site on their own schedules,
 * as real agents at a short interval do: each wakes every `minInterval` to
 * `maxInterval` seconds (uniformly jittered), records what ran since its
 * last sync (a few new sessions, some running ones ending, sometimes
 * nothing) as one change, and syncs it in one request over a connection of
 * its own. Bodies are built as it goes, from what the site confirmed, so a
 * refused or lost request is simply sent again next time, as the real
 * client does.
 *
 * The load lasts a bounded time; then every agent delivers what it still
 * holds. Every request's outcome is recorded: latency of those answered
 * 200, 429s apart (they are allowed), every other failure by kind.
 *
 * @module
 */
import type * as A from "@automerge/automerge";
import { decodeSyncMessage } from "@automerge/automerge";
import { sameHeads } from "../lib/heads.ts";
import { DAY_MS, dayStart, usageDocId } from "../model/doc_id.ts";
import { decodeSyncBody, type SyncReply, syncReplySchema } from "../sync/mod.ts";
import { type FleetDays, nextDay, timeInDay } from "./fleet_days.ts";
import { SeededRandom } from "../lib/seeded_random.ts";
import {
  type Flush,
  IDLE_SHARE,
  postSync,
  randomFlush,
  type SimulatedAgent,
} from "./simulated_agent.ts";

export interface FleetOptions {
  seconds: number;
  minIntervalSeconds: number;
  maxIntervalSeconds: number;
  seed?: number;
  /** Share of wake-ups with nothing new (0.3 by default; 1 for heartbeats only). */
  idleShare?: number;
  /** How long the agents may take to deliver what they hold once the load ends. */
  drainTimeoutSeconds?: number;
  /** Short days (`fleet_days.ts`), begun by `beginDays`; by default the whole load is today. */
  days?: FleetDays;
}

/** A request the site answered 200. */
export interface LatencySample {
  /** When it was sent, ms since the load began. */
  atMs: number;
  ms: number;
  /** It carried usage changes (else only the rules replica's heads). */
  usage: boolean;
}

export interface FleetRun {
  latencies: LatencySample[];
  /** Requests sent while the load lasted, answered or not. */
  sent: number;
  rateLimited: number;
  /** Replies of 200 whose usage document did not show what was sent: sent again later. */
  unconfirmed: number;
  /** Failures other than 429, by kind (`status 500`, `network`, `timeout`, `bad reply`). */
  failures: Record<string, number>;
  /** The first message of each failure kind, for the report. */
  failureExamples: Record<string, string>;
  /** Sessions and session updates (running ones ending) the site confirmed during the load. */
  sessionsConfirmed: number;
  updatesConfirmed: number;
  loadSeconds: number;
  /** From the end of the load until every agent's last change was confirmed. */
  drainSeconds: number;
  /** Agents still holding unconfirmed changes when the drain timed out. */
  undelivered: number;
}

const REQUEST_TIMEOUT_MS = 30_000;

/** One agent of a fleet, as the {@linkcode Recorder} syncs it. */
export interface Member {
  agent: SimulatedAgent;
  http: Deno.HttpClient;
  random: SeededRandom;
  /** Recorded and not yet confirmed by the site. */
  pendingSessions: number;
  pendingUpdates: number;
  /** When its current day began and ends (`performance.now()`). */
  dayBegan: number;
  dayEnds: number;
}

/** Runs the fleet against `site` for `options.seconds`, then drains it. */
export async function runFleet(
  site: string,
  agents: SimulatedAgent[],
  options: FleetOptions,
): Promise<FleetRun> {
  const random = new SeededRandom(options.seed ?? 7);
  const run = new Recorder(site);
  const deadline = run.started + options.seconds * 1000;
  const dayMs = (options.days?.lengthSeconds ?? Infinity) * 1000;
  const members = agents.map((agent, i): Member => {
    // Without short days, the day is today's, as the wall clock has it.
    const dayBegan = options.days
      ? run.started - options.days.gone[i] * dayMs
      : run.started - (Date.now() - dayStart(agent.day));
    return {
      agent,
      http: Deno.createHttpClient({}),
      random: random.fork(i),
      pendingSessions: 0,
      pendingUpdates: 0,
      dayBegan,
      dayEnds: options.days ? dayBegan + dayMs : Infinity,
    };
  });
  try {
    await Promise.all(members.map((m) => loadMember(m, run, deadline, options)));
    run.loadSeconds = (deadline - run.started) / 1000;
    run.undelivered = await drain(members, run, options.drainTimeoutSeconds ?? 60);
    run.drainSeconds = (performance.now() - deadline) / 1000;
  } finally {
    for (const m of members) m.http.close();
  }
  return run.result();
}

/** One agent while the load lasts: wake, record, sync, sleep. */
async function loadMember(m: Member, run: Recorder, deadline: number, o: FleetOptions) {
  // Agents start at random moments, as a fleet does, not all at once.
  await sleepUntil(
    Math.min(deadline, performance.now() + m.random.next() * o.maxIntervalSeconds * 1000),
  );
  while (performance.now() < deadline) {
    const dayOver = performance.now() >= m.dayEnds;
    // The day's last flush ends what still runs; the next day begins once the site has it all.
    record(
      m,
      dayOver ? endAll(m) : randomFlush(m.random, m.agent.running, o.idleShare ?? IDLE_SHARE),
    );
    await run.sync(m, true);
    if (dayOver && m.agent.confirmed) startNextDay(m);
    const interval = o.minIntervalSeconds +
      m.random.next() * (o.maxIntervalSeconds - o.minIntervalSeconds);
    await sleepUntil(Math.min(deadline, performance.now() + interval * 1000));
  }
}

/** Goes on to the agent's next day, which lasts as long as the one that ended. */
function startNextDay(m: Member): void {
  m.agent.startDay(nextDay(m.agent.day));
  const length = m.dayEnds - m.dayBegan;
  m.dayBegan = m.dayEnds;
  m.dayEnds += length;
}

function endAll(m: Member): Flush {
  return { ended: 0, started: 0, ending: m.agent.running };
}

function record(m: Member, flush: Flush): void {
  const writes = m.agent.record(flush, sessionClock(m));
  m.pendingSessions += flush.ended + flush.started;
  m.pendingUpdates += writes - flush.ended - flush.started;
}

/**
 * Now, as far through the document's day as the agent is through its day
 * (with short days, time runs fast).
 */
function sessionClock(m: Member): number {
  const dayMs = m.dayEnds === Infinity ? DAY_MS : m.dayEnds - m.dayBegan;
  return timeInDay(m.agent.day, (performance.now() - m.dayBegan) / dayMs);
}

/** Once the load ended: every agent syncs until the site confirmed all it holds. */
export async function drain(
  members: Member[],
  run: Recorder,
  timeoutSeconds: number,
): Promise<number> {
  const until = performance.now() + timeoutSeconds * 1000;
  const holding = () => members.filter((m) => m.pendingSessions + m.pendingUpdates > 0);
  let left = holding();
  while (left.length > 0 && performance.now() < until) {
    await Promise.all(left.map((m) => run.sync(m, false)));
    left = holding();
    if (left.length > 0) await sleepUntil(performance.now() + 1000);
  }
  return left.length;
}

/** Sends syncs and keeps their outcomes. */
export class Recorder {
  readonly started = performance.now();
  readonly latencies: LatencySample[] = [];
  readonly failures: Record<string, number> = {};
  readonly failureExamples: Record<string, string> = {};
  sent = 0;
  rateLimited = 0;
  unconfirmed = 0;
  sessionsConfirmed = 0;
  updatesConfirmed = 0;
  loadSeconds = 0;
  drainSeconds = 0;
  undelivered = 0;
  readonly #site: string;

  constructor(site: string) {
    this.#site = site;
  }

  /**
   * One sync of `m`; `loaded` while the load lasts (then its outcome is
   * counted). Returns the site's answer when it answered 200.
   */
  async sync(m: Member, loaded: boolean): Promise<SyncReply | undefined> {
    const { body, usage, heads } = m.agent.syncBody();
    const sentAt = performance.now();
    if (loaded) this.sent++;
    const doc = usageDocId(m.agent.client.clientId, m.agent.day);
    const failure = await this.#post(m, body);
    const ms = performance.now() - sentAt;
    if (!("kind" in failure)) {
      // Acknowledged only once the site's answer shows it holds what was sent, as the real
      // client's sync state would: a 200 alone does not say every change was applied.
      m.agent.receiveRules(failure);
      if (!usage || holds(failure, doc, heads)) this.#confirmed(m, heads, loaded);
      else this.unconfirmed++;
      if (loaded) this.latencies.push({ atMs: sentAt - this.started, ms, usage });
      return failure;
    }
    this.failed(failure);
  }

  /** A request not answered 200: a 429 is allowed, anything else is a failure. */
  failed(failure: { kind: string; message: string }): void {
    if (failure.kind === "429") {
      this.rateLimited++;
    } else {
      this.failures[failure.kind] = (this.failures[failure.kind] ?? 0) + 1;
      this.failureExamples[failure.kind] ??= failure.message;
    }
  }

  /** The site's reply when it answered 200 with one, else what went wrong. */
  async #post(
    m: Member,
    body: Uint8Array,
  ): Promise<{ kind: string; message: string } | SyncReply> {
    let answer: { status: number; reply: Uint8Array };
    try {
      answer = await postSync(this.#site, m.agent.authorization, body, {
        client: m.http,
        deflate: true,
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (error) {
      const e = error as Error;
      return { kind: e.name === "TimeoutError" ? "timeout" : "network", message: e.message };
    }
    const { status, reply } = answer;
    if (status !== 200) {
      const message = new TextDecoder().decode(reply).slice(0, 300);
      return { kind: status === 429 ? "429" : `status ${status}`, message };
    }
    try {
      return decodeSyncBody(reply, syncReplySchema);
    } catch (error) {
      return { kind: "bad reply", message: (error as Error).message };
    }
  }

  #confirmed(m: Member, heads: A.Heads, loaded: boolean): void {
    m.agent.acknowledge(heads);
    if (loaded) {
      this.sessionsConfirmed += m.pendingSessions;
      this.updatesConfirmed += m.pendingUpdates;
    }
    m.pendingSessions = 0;
    m.pendingUpdates = 0;
  }

  result(): FleetRun {
    return {
      latencies: this.latencies,
      sent: this.sent,
      rateLimited: this.rateLimited,
      unconfirmed: this.unconfirmed,
      failures: this.failures,
      failureExamples: this.failureExamples,
      sessionsConfirmed: this.sessionsConfirmed,
      updatesConfirmed: this.updatesConfirmed,
      loadSeconds: this.loadSeconds,
      drainSeconds: this.drainSeconds,
      undelivered: this.undelivered,
    };
  }
}

/** Whether the site's message for `doc` in `reply` announces `heads`: it holds what was sent. */
function holds(reply: SyncReply, doc: string, heads: A.Heads): boolean {
  const item = reply.items.find((i) => i.doc === doc);
  return item !== undefined && sameHeads(decodeSyncMessage(item.msg).heads, heads);
}

export function sleepUntil(at: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, at - performance.now())));
}
