/**
 * Who holds a licence without using it: this site's own computers (per
 * device) or users (named user) whose run time of the pool in the window is
 * below the threshold, with when they last used it, when it was installed,
 * and what reclaiming one saves. A computer holds the product where it is
 * installed; a user, once they have run it at any time the summaries keep.
 * Computers and user names never leave their site, so each site lists its
 * own; a parent's figures count the candidates of the sites below
 * (`reclaimable` in the position).
 *
 * @module
 */
import type { Client } from "../../store/db.ts";
import type { Licence } from "../../model/licence.ts";
import { installedSince } from "./pool_installs.ts";
import { lastUses, poolUse } from "./pool_use.ts";

export interface ReclaimCandidate {
  clientId: string | null;
  hostName: string | null;
  user: string | null;
  installedAt: number | null;
  lastUse: number | null;
  /** Run time in the window, below the threshold. */
  windowMs: number;
  saving: number | null;
}

/** The candidates, never used first, then the longest unused. */
export async function reclaimCandidates(
  db: Client,
  licence: Licence,
  now: number,
): Promise<ReclaimCandidate[]> {
  const threshold = licence.thresholdMinutes * 60_000;
  const use = await poolUse(db, licence.ruleIds, licence.windowDays, now);
  const candidates = licence.model === "device"
    ? await computers(db, licence, use.byComputer, threshold)
    : await users(db, licence, use.byUser, threshold);
  return candidates.sort((a, b) => (a.lastUse ?? -1) - (b.lastUse ?? -1));
}

async function computers(
  db: Client,
  licence: Licence,
  windowUse: Map<string, number>,
  threshold: number,
): Promise<ReclaimCandidate[]> {
  const [installed, last] = await Promise.all([
    installedSince(db, licence.ruleIds),
    lastUses(db, licence.ruleIds, "client"),
  ]);
  const idle = [...installed].filter(([client]) => (windowUse.get(client) ?? 0) < threshold);
  const hosts = await db.execute({
    sql: `SELECT client_id, host_name FROM clients
      WHERE client_id IN (SELECT value FROM json_each(?))`,
    args: [JSON.stringify(idle.map(([client]) => client))],
  });
  const hostOf = new Map(hosts.rows.map((r) => [r.client_id as string, r.host_name as string]));
  return idle.map(([client, installedAt]) => ({
    clientId: client,
    hostName: hostOf.get(client) ?? null,
    user: null,
    installedAt,
    lastUse: last.get(client)?.lastUse ?? null,
    windowMs: windowUse.get(client) ?? 0,
    saving: licence.unitCost,
  }));
}

async function users(
  db: Client,
  licence: Licence,
  windowUse: Map<string, number>,
  threshold: number,
): Promise<ReclaimCandidate[]> {
  const known = await lastUses(db, licence.ruleIds, "user");
  return [...known]
    .filter(([user]) => (windowUse.get(user) ?? 0) < threshold)
    .map(([user, { lastUse }]) => ({
      clientId: null,
      hostName: null,
      user,
      installedAt: null,
      lastUse,
      windowMs: windowUse.get(user) ?? 0,
      saving: licence.unitCost,
    }));
}
