/**
 * Short days for a load fleet whose time runs fast. The simulated agents
 * record sessions far more often than real ones (about a hundred times a
 * real client's), so over one long "day" their usage documents outgrow any
 * real day's and every request costs more than the last: the load never
 * settles. A real agent goes on to a new document at midnight UTC, so with
 * days as short as the fleet's time is fast, documents stop growing where a
 * day ends, as they do in a real fleet.
 *
 * Days end for each agent at a moment of its own, so that documents of
 * every age are in the fleet at once, and the load begins part-way through
 * each agent's first day, with the part already gone recorded and delivered
 * beforehand: the fleet is settled from the start, as a site's fleet is at
 * any hour, instead of every document beginning empty.
 *
 * Days are in the past, ending with yesterday at the latest, since the site
 * refuses sessions from the future.
 *
 * @module
 */
import { DAY_MS, dayOf, dayStart } from "../model/doc_id.ts";
import { runConcurrently } from "./bench_site.ts";
import type { SeededRandom } from "../lib/seeded_random.ts";
import { postSync, randomFlush, type SimulatedAgent } from "./simulated_agent.ts";

/** Each agent's days: how long they last, and how far into its first day the load begins. */
export interface FleetDays {
  lengthSeconds: number;
  /** Per agent, the share of its first day already gone when the load begins (0 to 1). */
  gone: number[];
}

export interface BeginDaysOptions {
  lengthSeconds: number;
  /** How long the load lasts: the days it needs end before today. */
  loadSeconds: number;
  /** The agents' mean time between syncs, so the part gone holds as many flushes as it would have. */
  meanIntervalSeconds: number;
  idleShare: number;
  /** One per agent. */
  random: SeededRandom[];
}

/**
 * Starts each agent's first day part-way through and delivers what it
 * recorded in the part gone (one sync each, as an agent coming back
 * online does). Returns the days for {@linkcode runFleet}.
 */
export async function beginDays(
  site: string,
  agents: SimulatedAgent[],
  o: BeginDaysOptions,
): Promise<FleetDays> {
  const firstDay = dayBefore(Math.ceil(o.loadSeconds / o.lengthSeconds) + 1);
  const gone = agents.map((_, i) => o.random[i].next());
  const flushesPerDay = o.lengthSeconds / o.meanIntervalSeconds;
  await runConcurrently(agents.length, 16, async (i) => {
    const agent = agents[i];
    agent.startDay(firstDay);
    const flushes = Math.floor(gone[i] * flushesPerDay);
    for (let f = 0; f < flushes; f++) {
      const flush = randomFlush(o.random[i], agent.running, o.idleShare);
      agent.record(flush, timeInDay(agent.day, f / flushesPerDay));
    }
    const { body, heads } = agent.syncBody();
    const { status, reply } = await postSync(site, agent.authorization, body, { deflate: true });
    if (status !== 200) {
      throw new Error(`the first day's sessions were refused: ${new TextDecoder().decode(reply)}`);
    }
    agent.acknowledge(heads);
  });
  return { lengthSeconds: o.lengthSeconds, gone };
}

/** The day after `day`. */
export function nextDay(day: string): string {
  return dayOf(dayStart(day) + DAY_MS);
}

/**
 * The time `share` of the way through `day`, kept where a session may
 * start: within its day, and a minute in, since a session just ended
 * began a few seconds before; in whole milliseconds, as agents record.
 */
export function timeInDay(day: string, share: number): number {
  const start = dayStart(day);
  const at = Math.floor(start + share * DAY_MS); // times are whole ms
  return Math.min(Math.max(at, start + 60_000), start + DAY_MS - 1);
}

/** The day `days` before today (UTC). */
function dayBefore(days: number): string {
  return dayOf(Date.now() - days * DAY_MS);
}
