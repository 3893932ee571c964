/**
 * Rules as reports see them: the `rule` parameter must name a rule in the
 * `rules` table (a 400 names it otherwise), and per-rule reports list every
 * rule that applies here plus any rule id found only in the data (a rule
 * deleted since: its usage still counts, with no name), in a stable order
 * (site code, then rule number).
 *
 * @module
 */
import { badRequest } from "../http/api_error.ts";
import type { Client } from "../../store/db.ts";

export interface RuleName {
  ruleId: string;
  /** null for a rule id that is no longer in the `rules` table. */
  ruleName: string | null;
}

/** The rule named by the `rule` parameter, or a 400 naming it. */
export async function requireRule(db: Client, id: string): Promise<RuleName> {
  const result = await db.execute({ sql: "SELECT name FROM rules WHERE id = ?", args: [id] });
  const row = result.rows[0];
  if (!row) {
    throw badRequest(
      `invalid query: rule: no rule ${id} applies at this site; see GET /v1/reports/rules`,
      "invalid_input",
    );
  }
  return { ruleId: id, ruleName: row.name as string };
}

/** Every rule of the `rules` table and the extra ids given, sorted. */
export async function rulesAnd(db: Client, dataRuleIds: Iterable<string>) {
  const result = await db.execute("SELECT id, name FROM rules");
  const names = new Map<string, string | null>();
  for (const row of result.rows) names.set(row.id as string, row.name as string);
  for (const id of dataRuleIds) if (!names.has(id)) names.set(id, null);
  const rules: RuleName[] = [...names].map(([ruleId, ruleName]) => ({ ruleId, ruleName }));
  return rules.sort((a, b) => compareRuleIds(a.ruleId, b.ruleId));
}

/** Orders `S01-2` before `S01-10`: by site code, then rule number. */
export function compareRuleIds(a: string, b: string): number {
  const [siteA, numberA] = a.split("-");
  const [siteB, numberB] = b.split("-");
  if (siteA !== siteB) return siteA < siteB ? -1 : 1;
  return Number(numberA) - Number(numberB) || (a < b ? -1 : a > b ? 1 : 0);
}
