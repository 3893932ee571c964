/**
 * Usage documents into `usage_sessions` rows, idempotently: a session is
 * keyed by client and session id, so a record written again (its end time
 * arrived) updates its row, and a message applied twice changes nothing.
 *
 * @module
 */
import * as A from "@automerge/automerge";
import type { ChangedKeys } from "../../store/changed_keys.ts";
import type { InStatement } from "../../store/db.ts";
import {
  decodeProgram,
  decodeSession,
  isProgramKey,
  isSessionKey,
  type UsageProgram,
  type UsageSession,
} from "../../model/usage_record.ts";
import { lastUsageStatement } from "../clients/clients_table.ts";
import {
  deleteSessionsStatements,
  type SessionRowValues,
  upsertSessionsStatements,
} from "./sessions_table.ts";

export interface UsageFrom {
  /** The site's clock, for the future check. */
  now?: number;
  /** Added to the agent's times (`sync/clock_offset.ts`). */
  clockCorrectionMs?: number;
  /** The sites whose rules the agent follows; unchecked when not given. */
  ruleSites?: ReadonlySet<string>;
}

export function usageStatements(
  client: string,
  day: string,
  doc: A.Doc<unknown>,
  { put, deleted }: ChangedKeys,
  before: A.Heads,
  { now = Date.now(), clockCorrectionMs = 0, ruleSites }: UsageFrom = {},
): InStatement[] {
  const records = doc as Record<string, unknown>;
  const programs = new Map<number, UsageProgram>();
  const programOf = (n: number) => {
    if (!programs.has(n)) {
      const value = records[`p${n}`];
      if (value !== undefined) {
        programs.set(n, ofFollowedSite(decodeProgram(`p${n}`, value), `p${n}`, ruleSites));
      }
    }
    return programs.get(n);
  };
  // A program rewritten in place changes every session that names it.
  const programChanged = [...put].some(isProgramKey) && rewritesProgram(doc, before, put);
  const keys = programChanged ? Object.keys(records).filter(isSessionKey) : [...put];
  const sessions: UsageSession[] = [];
  for (const key of keys) {
    if (isProgramKey(key)) programOf(Number(key.slice(1))); // validates it
    else if (isSessionKey(key)) {
      const session = onSiteClock(
        decodeSession(day, key, records[key], programOf),
        clockCorrectionMs,
      );
      sessions.push(notInTheFuture(session, now));
    } else throw new Error(`unexpected record ${key} in a usage document`);
  }
  const statements = upsertSessionsStatements(rowsOf(client, sessions, now, clockCorrectionMs));
  const gone = [...deleted].filter(isSessionKey).map((key) => `${day}/${key}`);
  statements.push(...deleteSessionsStatements(client, gone));
  const lastUsage = Math.max(0, ...sessions.map((s) => s.end ?? s.start));
  if (lastUsage > 0) statements.push(lastUsageStatement(client, lastUsage));
  return statements;
}

/** The sessions as rows, stamped with when they were written and the clock correction. */
function rowsOf(
  client: string,
  sessions: UsageSession[],
  now: number,
  clockCorrectionMs: number,
): SessionRowValues[] {
  return sessions.map((s) => [
    client,
    s.id,
    s.ruleId,
    s.user,
    s.exe,
    s.argv0,
    s.version,
    s.pid,
    s.start,
    s.end,
    s.startNotCaptured ? 1 : 0,
    s.endNotCaptured ? 1 : 0,
    s.remote ? 1 : 0,
    now,
    clockCorrectionMs,
    s.language ?? null,
  ]);
}

function rewritesProgram(doc: A.Doc<unknown>, before: A.Heads, put: Set<string>): boolean {
  const old = A.view(doc, before) as Record<string, unknown>;
  return [...put].some((key) => isProgramKey(key) && old[key] !== undefined);
}

/**
 * A session's times on this site's clock: an agent whose clock is wrong by
 * more than the tolerance has its times moved by the error measured at the
 * sync that brought them (the row keeps the correction, so the agent's own
 * times are `start_ms - clock_offset_ms`; the document keeps them as sent).
 */
function onSiteClock(session: UsageSession, correctionMs: number): UsageSession {
  if (correctionMs === 0) return session;
  return {
    ...session,
    start: session.start + correctionMs,
    end: session.end === null ? null : session.end + correctionMs,
  };
}

/**
 * An agent learns rules only from the sites it follows, so a program naming
 * another site's rule is forged or corrupt: refused with the batch. A rule of
 * a followed site that this site does not have (deleted since the program
 * ran, or lost with a restore) is kept: the usage happened, and reports show
 * it as a rule with no name.
 */
function ofFollowedSite(
  program: UsageProgram,
  key: string,
  ruleSites: ReadonlySet<string> | undefined,
): UsageProgram {
  const site = program.ruleId.split("-")[0];
  if (ruleSites && !ruleSites.has(site)) {
    throw new Error(
      `program ${key} names rule ${program.ruleId} of site ${site}, whose rules this agent ` +
        `does not follow (it follows ${[...ruleSites].join(", ")})`,
    );
  }
  return program;
}

/** How far ahead of the site's clock a session may start: clocks hours wrong, not days. */
export const MAX_CLOCK_AHEAD_MS = 86_400_000;

/**
 * A session that starts more than a day after the site's clock cannot be
 * true (an agent's clock set years ahead, or a forged record): it is refused,
 * with the whole batch, rather than stored as it came. An end before its
 * start cannot be written at all: a session holds its duration, never
 * negative.
 */
function notInTheFuture(session: UsageSession, now: number): UsageSession {
  if (session.start > now + MAX_CLOCK_AHEAD_MS) {
    throw new Error(
      `session ${session.id} starts at ${new Date(session.start).toISOString()}, more than a ` +
        `day after this site's clock (${new Date(now).toISOString()}); check the agent's clock`,
    );
  }
  return session;
}
