/**
 * One licence's counts over this site's own clients (not the sites below,
 * which send theirs): the computers where a rule of its pool is installed
 * (`pool_installs.ts`), and the computers and users whose run time of the
 * pool in the window reaches the threshold (`pool_use.ts`). Being read from
 * the summaries, the window may reach back as far as summaries are kept.
 *
 * @module
 */
import type { Client } from "../../store/db.ts";
import type { Licence } from "../../model/licence.ts";
import { installedClients } from "./pool_installs.ts";
import { lastUses, poolUse } from "./pool_use.ts";

export interface SiteFigures {
  windowFrom: number;
  installed: number;
  installedUsed: number;
  usedComputers: number;
  usedUsers: number;
  /** Users who ran the pool's programs here at any time the summaries keep. */
  knownUsers: number;
}

export async function ownLicenceFigures(
  db: Client,
  licence: Pick<Licence, "ruleIds" | "windowDays" | "thresholdMinutes">,
  now: number,
): Promise<SiteFigures> {
  const [use, installed, known] = await Promise.all([
    poolUse(db, licence.ruleIds, licence.windowDays, now),
    installedClients(db, licence.ruleIds),
    lastUses(db, licence.ruleIds, "user"),
  ]);
  const threshold = licence.thresholdMinutes * 60_000;
  const used = [...use.byComputer].filter(([, ms]) => ms >= threshold).map(([client]) => client);
  return {
    windowFrom: use.windowFrom,
    installed: installed.size,
    installedUsed: used.filter((client) => installed.has(client)).length,
    usedComputers: used.length,
    usedUsers: [...use.byUser.values()].filter((ms) => ms >= threshold).length,
    knownUsers: known.size,
  };
}
