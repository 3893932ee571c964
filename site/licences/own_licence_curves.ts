/**
 * A concurrent licence's curves of concurrent users, one per UTC day, over
 * this site's own clients, from their raw sessions (`users_curve.ts`). The
 * pool's sessions are read rule by rule through `usage_by_rule`, so a
 * licence costs what its own programs ran, not the whole day's sessions;
 * sessions of more than a day, or still running, are few and come from
 * `usage_long`.
 *
 * @module
 */
import type { Client } from "../../store/db.ts";
import { DAY_MS, dayOf, dayStart } from "../../model/doc_id.ts";
import { inOwnClients } from "../clients/clients_table.ts";
import { sessionsFrom } from "../usage/sessions_table.ts";
import { type Curve, type Run, usersCurve } from "./users_curve.ts";

/** The curve of each of `days` (only days with any use), for the pool's rules. */
export async function ownDayCurves(
  db: Client,
  ruleIds: readonly string[],
  days: readonly string[],
  now: number,
): Promise<Map<string, Curve>> {
  const curves = new Map<string, Curve>();
  if (days.length === 0) return curves;
  const from = dayStart(days[0]);
  const to = Math.min(dayStart(days.at(-1)!) + DAY_MS, now + 1);
  const runs = await poolRuns(db, ruleIds, from, to);
  const byDay = new Map<string, Run[]>();
  for (const run of runs) {
    const end = Math.max(run.end ?? now, run.start + 1);
    for (
      let at = dayStart(dayOf(Math.max(run.start, from)));
      at < Math.min(end, to);
      at += DAY_MS
    ) {
      const day = dayOf(at);
      let list = byDay.get(day);
      if (!list) byDay.set(day, list = []);
      list.push(run);
    }
  }
  const wanted = new Set(days);
  for (const [day, list] of byDay) {
    if (!wanted.has(day)) continue;
    const curve = usersCurve(list, dayStart(day), dayStart(day) + DAY_MS, now);
    if (curve.length > 0) curves.set(day, curve);
  }
  return curves;
}

/** This site's own runs of the pool that overlap `[from, to)`. */
async function poolRuns(db: Client, ruleIds: readonly string[], from: number, to: number) {
  const own = inOwnClients("client_id");
  const runs: Run[] = [];
  for (const ruleId of ruleIds) {
    const result = await db.execute({
      sql: `SELECT user_name, start_ms, end_ms FROM ${sessionsFrom("usage_by_rule")}
          WHERE rule_id = ?1 AND start_ms >= ?2 - ${DAY_MS} AND start_ms < ?3
          AND end_ms - start_ms <= ${DAY_MS} AND (end_ms > ?2 OR start_ms >= ?2) AND ${own}
        UNION ALL
        SELECT user_name, start_ms, end_ms FROM ${sessionsFrom("usage_long")}
          WHERE (end_ms IS NULL OR end_ms - start_ms > ${DAY_MS}) AND start_ms < ?3
          AND (end_ms IS NULL OR end_ms > ?2) AND rule_id = ?1 AND ${own}`,
      args: [ruleId, from, to],
    });
    for (const row of result.rows) {
      runs.push({
        user: row.user_name as string,
        start: Number(row.start_ms),
        end: row.end_ms === null ? null : Number(row.end_ms),
      });
    }
  }
  return runs;
}
