/**
 * Usage that reaches the site after the history was written, materialised
 * the way the sync handler does it: per client and UTC day, the records of
 * a usage document (programs and sessions, CBOR tuples) turned into rows by
 * the site's own `usageStatements`, which upserts `usage_sessions` and adds
 * a `summary_pending` row per session (noting whether the site knew it as
 * running) in the same transaction.
 *
 * What arrives for a client between `from` and `to`: the sessions that
 * started then (those still running at `to` without an end), and the ends
 * of sessions that were running at `from` and ended before `to`.
 *
 * @module
 */
import type * as A from "@automerge/automerge";
import type { Client, InStatement } from "../store/db.ts";
import { DAY_MS } from "../model/doc_id.ts";
import { encodeProgram, encodeSession, type UsageSession } from "../model/usage_record.ts";
import { usageStatements } from "../site/mod.ts";
import type { Fleet, IdentifiedSession } from "./usage_fleet.ts";

/** How far back a session still running at `from` may have started. */
const LONGEST_RUN_MS = 6 * DAY_MS;

export interface Arrival {
  client: number;
  from: number;
  to: number;
}

export interface ArrivalSummary {
  /** Sessions that started in the stretch. */
  started: number;
  /** Sessions that were running at its start and ended in it. */
  ended: number;
  /** Usage documents (client and day) the stretch touched. */
  documents: number;
}

/** Materialises what arrives, `clientsPerTransaction` clients per transaction. */
export async function deliverArrivals(
  db: Client,
  fleet: Fleet,
  arrivals: Arrival[],
  clientsPerTransaction = 50,
): Promise<ArrivalSummary> {
  const summary: ArrivalSummary = { started: 0, ended: 0, documents: 0 };
  let statements: InStatement[] = [];
  let clients = 0;
  for (const { client, from, to } of arrivals) {
    const sessions: IdentifiedSession[] = [];
    fleet.walk(client, from, to, (s) => {
      sessions.push(s);
      summary.started++;
    });
    fleet.walk(client, from - LONGEST_RUN_MS, from, (s) => {
      if (s.end !== null && s.end > from && s.end <= to) {
        sessions.push(s);
        summary.ended++;
      }
    });
    const byDay = Map.groupBy(sessions, (s) => s.id.slice(0, 10));
    for (const [day, own] of byDay) {
      statements.push(...documentStatements(fleet, client, day, own, to));
      summary.documents++;
    }
    if (++clients % clientsPerTransaction === 0) {
      await db.batch(statements, "write");
      statements = [];
    }
  }
  if (statements.length > 0) await db.batch(statements, "write");
  return summary;
}

/** The rows of one usage document's new records, as materialisation writes them. */
function documentStatements(
  fleet: Fleet,
  clientIndex: number,
  day: string,
  sessions: IdentifiedSession[],
  asOf: number,
): InStatement[] {
  const records: Record<string, Uint8Array> = {};
  const programs = new Map<string, number>();
  const put = new Set<string>();
  for (const s of sessions) {
    const rule = fleet.rules[s.rule];
    const running = s.end === null || s.end > asOf;
    const session: UsageSession = {
      id: s.id,
      ruleId: rule.id,
      user: fleet.users[s.user],
      exe: rule.exe,
      argv0: rule.argv0,
      version: rule.version,
      pid: s.pid,
      start: s.start,
      end: running ? null : s.end,
      startNotCaptured: s.startNotCaptured,
      endNotCaptured: !running && s.endNotCaptured,
      remote: s.remote,
    };
    const programKey = `${s.rule}\u0000${s.user}`;
    let program = programs.get(programKey);
    if (program === undefined) {
      programs.set(programKey, program = programs.size);
      records[`p${program}`] = encodeProgram(session);
    }
    const key = s.id.slice(11);
    records[key] = encodeSession(day, session, program);
    put.add(key);
  }
  return usageStatements(
    fleet.clients[clientIndex].id,
    day,
    records as unknown as A.Doc<unknown>,
    { put, deleted: new Set() },
    [],
    { now: asOf },
  );
}
