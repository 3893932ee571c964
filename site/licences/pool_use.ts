/**
 * How long this site's own computers and users ran a licence's pool in its
 * window, from the summaries: whole months from `monthly_usage`, the first,
 * partial month from `daily_usage` (`licence_window.ts`). A user's time adds
 * up over every computer they ran it on; programs of the pool run at once
 * add up too, as run time does in every report.
 *
 * @module
 */
import type { Client } from "../../store/db.ts";
import { inOwnClients } from "../clients/clients_table.ts";
import { licenceWindow } from "./licence_window.ts";

export interface PoolUse {
  windowFrom: number;
  /** Run time in the window per computer. */
  byComputer: Map<string, number>;
  /** Run time in the window per user name. */
  byUser: Map<string, number>;
}

export async function poolUse(
  db: Client,
  ruleIds: readonly string[],
  windowDays: number,
  now: number,
): Promise<PoolUse> {
  const window = licenceWindow(windowDays, now);
  const runs = await db.execute({
    sql: `WITH pool(rule_id) AS (SELECT value FROM json_each(?1)),
      runs AS (
        SELECT client_id, user_name, run_ms FROM monthly_usage
          WHERE rule_id IN pool AND month >= ?2
        UNION ALL
        SELECT client_id, user_name, run_ms FROM daily_usage INDEXED BY daily_usage_by_rule_day
          WHERE rule_id IN pool AND day >= ?3 AND day < ?4
      )
      SELECT client_id, user_name, sum(run_ms) AS run_ms FROM runs
      WHERE ${inOwnClients("client_id")} GROUP BY client_id, user_name`,
    args: [JSON.stringify(ruleIds), window.firstWholeMonth, window.fromDay, window.partialEnd],
  });
  const use: PoolUse = { windowFrom: window.from, byComputer: new Map(), byUser: new Map() };
  for (const row of runs.rows) {
    const ms = Number(row.run_ms);
    const client = row.client_id as string, user = row.user_name as string;
    use.byComputer.set(client, (use.byComputer.get(client) ?? 0) + ms);
    use.byUser.set(user, (use.byUser.get(user) ?? 0) + ms);
  }
  return use;
}

/** Every use of the pool here the summaries keep, per computer or per user: the last one. */
export async function lastUses(db: Client, ruleIds: readonly string[], by: "client" | "user") {
  const column = by === "client" ? "client_id" : "user_name";
  const result = await db.execute({
    sql: `SELECT ${column} AS holder, max(last_use_ms) AS last_use,
        count(DISTINCT client_id) AS computers
      FROM monthly_usage WHERE rule_id IN (SELECT value FROM json_each(?))
      AND ${inOwnClients("client_id")} GROUP BY ${column}`,
    args: [JSON.stringify(ruleIds)],
  });
  return new Map(result.rows.map((row) => [
    row.holder as string,
    { lastUse: Number(row.last_use), computers: Number(row.computers) },
  ]));
}
