/**
 * Ground truth for licence positions: simulated clients with known installs
 * and known runs, sent to a real site as an agent would (inventory and usage
 * documents over `/v1/sync`), and the figures a position must show,
 * computed here from those definitions alone, by brute force, without any of
 * the site's code.
 *
 * Users are told apart per site (`site` + name), as positions count them.
 *
 * @module
 */
import * as A from "@automerge/automerge";
import { DAY_MS, dayOf, dayStart, inventoryDocId, usageDocId } from "../../model/doc_id.ts";
import { encodeProduct } from "../../model/inventory_record.ts";
import {
  enrollFakeAgent,
  type FakeAgent,
  itemFor,
  newRecordDoc,
  sendBatch,
  session,
  writeSessions,
} from "./fake_agent.ts";

export const MIN = 60_000;

export interface TruthClient {
  /** A name the test gives it, also its host name. */
  name: string;
  site: string;
  /** Program names installed (each a file `/usr/bin/<name>`). */
  installs: string[];
}

export interface TruthRun {
  client: string;
  program: string;
  user: string;
  start: number;
  end: number;
}

/** Enrols the client at `url` and sends its inventory and runs; `rules` maps programs to rule ids. */
export async function sendClient(
  url: string,
  enrollToken: string,
  client: TruthClient,
  runs: readonly TruthRun[],
  rules: Record<string, string>,
): Promise<FakeAgent> {
  const agent = await enrollFakeAgent(url, enrollToken, client.name);
  const inventory = A.change(newRecordDoc(agent.actor), (d) => {
    for (const program of client.installs) {
      d[`desktop/${program}`] = encodeProduct({
        name: program,
        version: "",
        publisher: "",
        source: "desktop",
        installedAt: null,
        files: [{ path: `/usr/bin/${program}`, sha256: null }],
      });
    }
  });
  const items = [itemFor(inventoryDocId(agent.clientId), inventory)];
  const byDay = new Map<string, TruthRun[]>();
  for (const run of runs.filter((run) => run.client === client.name)) {
    const day = dayOf(run.start);
    byDay.set(day, [...byDay.get(day) ?? [], run]);
  }
  for (const [day, list] of byDay) {
    const usage = writeSessions(
      newRecordDoc(agent.actor),
      day,
      list.map((run, n) =>
        session({
          id: `${day}/${n + 1}`,
          ruleId: rules[run.program],
          user: run.user,
          start: run.start,
          end: run.end,
        })
      ),
    );
    items.push(itemFor(usageDocId(agent.clientId, day), usage));
  }
  const sent = await sendBatch(url, agent, items);
  if (sent.status !== 200) throw new Error(JSON.stringify(sent));
  return agent;
}

export interface TruthLicence {
  pool: string[];
  windowDays: number;
  thresholdMinutes: number;
}

/** The figures of a licence over `clients`, which may be of several sites. */
export function truthFigures(
  clients: readonly TruthClient[],
  runs: readonly TruthRun[],
  licence: TruthLicence,
  now: number,
) {
  const from = dayStart(dayOf(now - (licence.windowDays - 1) * DAY_MS));
  const siteOf = new Map(clients.map((c) => [c.name, c.site]));
  const ours = runs.filter((r) => siteOf.has(r.client) && licence.pool.includes(r.program));
  const inWindow = ours.filter((r) => r.start >= from);
  const above = (key: (r: TruthRun) => string) => {
    const totals = new Map<string, number>();
    for (const r of inWindow) totals.set(key(r), (totals.get(key(r)) ?? 0) + r.end - r.start);
    return [...totals].filter(([, ms]) => ms >= licence.thresholdMinutes * MIN).map(([k]) => k);
  };
  const userOf = (r: TruthRun) => `${siteOf.get(r.client)}/${r.user}`;
  const installed = clients.filter((c) => c.installs.some((p) => licence.pool.includes(p)))
    .map((c) => c.name);
  const usedComputers = above((r) => r.client);
  return {
    installed: installed.length,
    usedComputers: usedComputers.length,
    installedUsed: usedComputers.filter((c) => installed.includes(c)).length,
    usedUsers: above(userOf).length,
    knownUsers: new Set(ours.map(userOf)).size,
    peak: bruteForcePeak(inWindow, userOf),
  };
}

/** The most distinct users running at one millisecond (a run of no length lasts one). */
function bruteForcePeak(runs: TruthRun[], userOf: (r: TruthRun) => string) {
  const instants = [...new Set(runs.map((r) => r.start))].sort((a, b) => a - b);
  let best = { users: 0, at: null as number | null };
  for (const t of instants) {
    const users = new Set(
      runs.filter((r) => r.start <= t && t < Math.max(r.end, r.start + 1)).map(userOf),
    );
    if (users.size > best.users) best = { users: users.size, at: t };
  }
  return best;
}
