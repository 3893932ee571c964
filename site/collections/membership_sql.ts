/**
 * Membership expressions compiled to one parameterised SQL statement over
 * `clients`: every value an administrator wrote travels as a bound argument,
 * the SQL text is made of constants only.
 *
 * When a computer last used a rule's program is read from three places, so
 * that the answer is both fast and current:
 *
 * - `monthly_usage` (per rule, month, user and computer, with `last_use_ms`),
 *   which holds everything the summariser has seen, for as long as summaries
 *   are kept (`summaryRetentionDays`);
 * - `summary_pending`, the sessions that arrived or changed since the
 *   summariser last ran (materialisation adds them in the same transaction
 *   as the session, the summariser removes them in the same transaction as
 *   it updates `monthly_usage`), so a session is in one or the other;
 * - sessions still running (few, through a partial index), whose last use
 *   is now.
 *
 * So a session that reached the site a second ago counts, even before the
 * summariser has run.
 *
 * @module
 */
import type { InStatement } from "@libsql/client";
import { sqliteGlob } from "../inventory/installed_match.ts";
import { instantOf, type Membership } from "./membership.ts";
import { clientsWhereStatement, type Fragment } from "../clients/clients_table.ts";
import { runningClientsOfRule } from "../usage/sessions_table.ts";

const DAY_MS = 86_400_000;

/**
 * The computers that used `rule`'s program at some moment at or after
 * `cutoff` (ms): one column, `client_id`.
 */
function usedSince(rule: string, cutoff: number, now: number): Fragment {
  const month = new Date(Math.max(0, cutoff)).toISOString().slice(0, 7);
  const running = runningClientsOfRule(rule);
  return {
    sql: `SELECT client_id FROM monthly_usage
        WHERE rule_id = ? AND month >= ? AND last_use_ms >= ?
      UNION ALL SELECT client_id FROM summary_pending
        WHERE rule_id = ? AND coalesce(end_ms, ?) >= ?
      UNION ALL ${running.sql}`,
    args: [rule, month, cutoff, rule, now, cutoff, ...running.args],
  };
}

function inSet(set: Fragment, negate = false): Fragment {
  return { sql: `c.client_id ${negate ? "NOT IN" : "IN"} (${set.sql})`, args: set.args };
}

function combine(parts: Fragment[], operator: "AND" | "OR"): Fragment {
  return {
    sql: parts.map((p) => `(${p.sql})`).join(` ${operator} `),
    args: parts.flatMap((p) => p.args),
  };
}

/** A glob (`*`, `?`) as a LIKE pattern with `\` as its escape character. */
export function likePattern(glob: string): string {
  return glob.replace(/[\\%_]/g, (ch) => `\\${ch}`).replaceAll("*", "%").replaceAll("?", "_");
}

/** Computers whose inventory holds a product matching the globs (any case). */
function installed(product: string, version: string | undefined): Fragment {
  const versionClause = version === undefined ? "" : " AND lower(version) GLOB ?";
  return inSet({
    sql: `SELECT client_id FROM software WHERE name_lc GLOB ?${versionClause}`,
    args: [sqliteGlob(product), ...(version === undefined ? [] : [sqliteGlob(version)])],
  });
}

/** The condition on the row `c` of `clients` that `expr` means, at the instant `now`. */
export function membershipCondition(expr: Membership, now: number): Fragment {
  if (expr.ranRule) {
    const { rule, withinDays } = expr.ranRule;
    return inSet(usedSince(rule, now - withinDays * DAY_MS, now));
  }
  if (expr.notRunSince) {
    // Ran it at all, and not at or after `since`: then every use was before.
    const { rule } = expr.notRunSince;
    const since = instantOf(expr.notRunSince.since);
    return combine(
      [inSet(usedSince(rule, 0, now)), inSet(usedSince(rule, since, now), true)],
      "AND",
    );
  }
  if (expr.timeZone) return { sql: "c.time_zone = ?", args: [expr.timeZone.equals] };
  if (expr.hostName) {
    return { sql: "c.host_name LIKE ? ESCAPE '\\'", args: [likePattern(expr.hostName.glob)] };
  }
  if (expr.installed) return installed(expr.installed.product, expr.installed.version);
  if (expr.and) return combine(expr.and.map((e) => membershipCondition(e, now)), "AND");
  if (expr.or) return combine(expr.or.map((e) => membershipCondition(e, now)), "OR");
  if (expr.not) {
    const inner = membershipCondition(expr.not, now);
    return { sql: `NOT (${inner.sql})`, args: inner.args };
  }
  throw new Error("an expression without a kind passed validation");
}

/** The members of `expr` at `now`: `client_id, host_name, time_zone, last_sync_at`. */
export function membersStatement(expr: Membership, now: number): InStatement {
  return clientsWhereStatement(membershipCondition(expr, now));
}
