/**
 * One licence's counts over this site's own clients (not the sites below,
 * which send theirs): the computers where a rule of its pool is installed,
 * and the computers and users whose run time of the pool in the window
 * reaches the threshold. Runs are read from the summaries (whole months from
 * `monthly_usage`, the first partial month from `daily_usage`), so the
 * window may reach back as far as summaries are kept.
 *
 * @module
 */
import type { Client } from "../../store/db.ts";
import type { Licence } from "../../model/licence.ts";
import { inOwnClients } from "../clients/clients_table.ts";
import { installedSql } from "../inventory/installed_match.ts";
import { licenceWindow } from "./licence_window.ts";

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
  const window = licenceWindow(licence.windowDays, now);
  const pool = JSON.stringify(licence.ruleIds);
  const [runs, installed, known] = await Promise.all([
    db.execute({
      sql: `WITH pool(rule_id) AS (SELECT value FROM json_each(?1)),
        runs AS (
          SELECT client_id, user_name, run_ms FROM monthly_usage
            WHERE rule_id IN pool AND month >= ?2
          UNION ALL
          SELECT client_id, user_name, run_ms FROM daily_usage INDEXED BY daily_usage_by_rule
            WHERE rule_id IN pool AND day >= ?3 AND day < ?4
        )
        SELECT client_id, user_name, sum(run_ms) AS run_ms FROM runs
        WHERE ${inOwnClients("client_id")} GROUP BY client_id, user_name`,
      args: [pool, window.firstWholeMonth, window.fromDay, window.partialEnd],
    }),
    installedClients(db, licence.ruleIds),
    db.execute({
      sql: `SELECT count(DISTINCT user_name) AS users FROM monthly_usage
        WHERE rule_id IN (SELECT value FROM json_each(?)) AND ${inOwnClients("client_id")}`,
      args: [pool],
    }),
  ]);
  const byComputer = new Map<string, number>();
  const byUser = new Map<string, number>();
  for (const row of runs.rows) {
    const ms = Number(row.run_ms);
    const client = row.client_id as string, user = row.user_name as string;
    byComputer.set(client, (byComputer.get(client) ?? 0) + ms);
    byUser.set(user, (byUser.get(user) ?? 0) + ms);
  }
  const threshold = licence.thresholdMinutes * 60_000;
  const used = [...byComputer].filter(([, ms]) => ms >= threshold).map(([client]) => client);
  return {
    windowFrom: window.from,
    installed: installed.size,
    installedUsed: used.filter((client) => installed.has(client)).length,
    usedComputers: used.length,
    usedUsers: [...byUser.values()].filter((ms) => ms >= threshold).length,
    knownUsers: Number(known.rows[0].users),
  };
}

/** The computers here where a rule of the pool is installed, as the inventory tells. */
export async function installedClients(db: Client, ruleIds: readonly string[]) {
  const rules = await db.execute({
    sql: `SELECT file_name, original_file_name, sha256, version FROM rules
      WHERE id IN (SELECT value FROM json_each(?))`,
    args: [JSON.stringify(ruleIds)],
  });
  const branches = rules.rows.flatMap((r) => {
    const match = installedSql({
      fileName: r.file_name as string | null,
      originalFileName: r.original_file_name as string | null,
      sha256: r.sha256 as string | null,
      version: r.version as string,
    });
    return match ? [match] : [];
  });
  if (branches.length === 0) return new Set<string>();
  const result = await db.execute({
    sql: branches.map((b) => `SELECT client_id FROM (${b.sql})`).join(" UNION "),
    args: branches.flatMap((b) => b.args),
  });
  return new Set(result.rows.map((row) => row.client_id as string));
}
