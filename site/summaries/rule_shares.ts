/**
 * The rules of the sessions stored, dealt into shares of about equal work
 * for a rebuild on several threads (`summarizer_thread.ts`).
 *
 * A rule's work is guessed from its sessions of the last week of data
 * (a week, so that a rule run only at weekends weighs too), counted in
 * `usage_by_rule` without reading a row: counting every session would read
 * the whole index, over a second at 18 million sessions, on the site's
 * thread. The rules are found by skipping through the same index, one seek
 * per rule. A rule with no session that week weighs as one session.
 *
 * @module
 */
import type { Client } from "@libsql/client";
import { DAY_MS } from "../../model/doc_id.ts";

/** `count` shares of the rules, heaviest first into the lightest share; some may be empty. */
export async function ruleShares(db: Client, count: number): Promise<string[][]> {
  const result = await db.execute({
    sql: `WITH RECURSIVE r(id) AS (
        SELECT (SELECT min(rule_id) FROM session_rows)
        UNION ALL
        SELECT (SELECT min(rule_id) FROM session_rows WHERE rule_id > r.id) FROM r
        WHERE r.id IS NOT NULL),
      since(ms) AS (SELECT max(start_ms) - ? FROM session_rows)
      SELECT r.id AS rule_id, (SELECT count(*) FROM session_rows INDEXED BY usage_by_rule
          WHERE rule_id = r.id AND start_ms >= (SELECT ms FROM since)) AS sessions
      FROM r WHERE r.id IS NOT NULL`,
    args: [7 * DAY_MS],
  });
  const weighed = result.rows
    .map((row) => ({ rule: row.rule_id as string, weight: Math.max(1, row.sessions as number) }))
    .sort((a, b) => b.weight - a.weight || (a.rule < b.rule ? -1 : 1));
  const shares = Array.from({ length: count }, () => ({ rules: [] as string[], weight: 0 }));
  for (const { rule, weight } of weighed) {
    const lightest = shares.reduce((a, b) => (b.weight < a.weight ? b : a));
    lightest.rules.push(rule);
    lightest.weight += weight;
  }
  return shares.map((share) => share.rules);
}
