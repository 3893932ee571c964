/**
 * Keeps the agent's database bounded:
 *
 * - a usage document the site holds in full (its shared heads equal its own)
 *   and older than `keepDays` is deleted;
 * - when unsent usage exceeds `maxUnsentBytes`, the oldest closed days are
 *   dropped until it fits, each with a warning naming the day and its size:
 *   data is never dropped silently, and never today's or a day with a
 *   session still running.
 *
 * @module
 */
import type { Client, InStatement } from "../../store/db.ts";
import { DAY_MS, dayOf, parseDocId } from "../../model/doc_id.ts";
import type { DocStore } from "../../store/doc_store.ts";
import { sameHeads } from "../../lib/heads.ts";
import { log } from "../../lib/log.ts";
import type { Mutex } from "../../lib/mutex.ts";
import type { SyncStateStore } from "../../store/sync_state_store.ts";

export interface RetentionOptions {
  db: Client;
  docs: DocStore;
  states: SyncStateStore;
  /** The site's name in the sync states. */
  peer: string;
  keepDays: number;
  maxUnsentBytes: number;
  /** Shared with the recorder and writer, so no session starts in a day being deleted. */
  lock: Mutex;
}

export interface RetentionResult {
  deleted: string[];
  dropped: string[];
  unsentBytes: number;
}

export function applyRetention(
  o: RetentionOptions,
  clientId: string,
  now = Date.now(),
): Promise<RetentionResult> {
  return o.lock.run(() => retain(o, clientId, now));
}

async function retain(
  o: RetentionOptions,
  clientId: string,
  now: number,
): Promise<RetentionResult> {
  const docs = await o.docs.list(`usage/${clientId}/`);
  const states = await o.states.load(o.peer, docs.map((d) => d.docId));
  const busy = await busyDays(o.db);
  const today = dayOf(now);
  const oldest = dayOf(now - o.keepDays * DAY_MS);
  const result: RetentionResult = { deleted: [], dropped: [], unsentBytes: 0 };
  const statements: InStatement[] = [];
  const unsent: { docId: string; day: string; bytes: number }[] = [];
  for (const info of docs) {
    const day = (parseDocId(info.docId) as { day: string }).day;
    const confirmed = sameHeads(states.get(info.docId)!.sharedHeads, info.heads);
    if (!confirmed) {
      unsent.push({ docId: info.docId, day, bytes: info.bytes });
      result.unsentBytes += info.bytes;
    } else if (day < oldest && !busy.has(day)) {
      statements.push(...remove(o, info.docId));
      result.deleted.push(info.docId);
    }
  }
  for (const doc of unsent) { // oldest first: list() orders by id, and the day ends the id
    if (result.unsentBytes <= o.maxUnsentBytes) break;
    if (doc.day >= today || busy.has(doc.day)) continue;
    log.warn("unsent usage over the limit: dropping the oldest day", {
      docId: doc.docId,
      bytes: doc.bytes,
      unsentBytes: result.unsentBytes,
      maxUnsentBytes: o.maxUnsentBytes,
    });
    statements.push(...remove(o, doc.docId));
    result.dropped.push(doc.docId);
    result.unsentBytes -= doc.bytes;
  }
  if (statements.length > 0) await o.db.batch(statements, "write");
  return result;
}

function remove(o: RetentionOptions, docId: string): InStatement[] {
  return [
    ...o.docs.deleteStatements(docId),
    o.states.deleteStatement(docId),
    { sql: "DELETE FROM doc_actors WHERE doc_id = ?", args: [docId] },
  ];
}

/** Days with a session running or not yet written: their documents stay. */
async function busyDays(db: Client): Promise<Set<string>> {
  const result = await db.execute(
    "SELECT DISTINCT day FROM agent_sessions WHERE end_ms IS NULL OR written = 0",
  );
  return new Set(result.rows.map((row) => row.day as string));
}
