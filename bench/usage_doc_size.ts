/**
 * How many bytes the usage documents of a fleet take at a site, per
 * session, estimated from a sample of client-days: each document is built
 * as an agent builds it (a program record per rule and user, a session
 * record written when the run starts and again when it ends, one change per
 * flush, flushes a few seconds after each start or end) and measured as the
 * compacted snapshot the site's document store keeps.
 *
 * The benchmark's database holds the rows but not these documents (making
 * 900,000 of them would take longer than everything else), so their share
 * of a real site's size is this estimate.
 *
 * @module
 */
import * as A from "@automerge/automerge";
import { DAY_MS } from "../model/doc_id.ts";
import { encodeProgram, encodeSession, type UsageSession } from "../model/usage_record.ts";
import { SeededRandom } from "../lib/seeded_random.ts";
import type { Fleet, IdentifiedSession } from "./usage_fleet.ts";

/** A run and its end within this of each other are written by one flush. */
const FLUSH_MS = 5_000;

export function usageDocBytesPerSession(
  fleet: Fleet,
  end: number,
  samples = 200,
): { bytesPerSession: number; sessions: number } {
  const random = new SeededRandom(fleet.options.seed ^ 0x51ed);
  let bytes = 0;
  let sessions = 0;
  for (let i = 0; i < samples; i++) {
    const client = random.int(0, fleet.clients.length - 1);
    // A full UTC day among the last weeks.
    const dayStart = (Math.floor(end / DAY_MS) - random.int(1, 28)) * DAY_MS;
    const own: IdentifiedSession[] = [];
    fleet.walk(client, dayStart, dayStart + DAY_MS, (s) => own.push(s));
    if (own.length === 0) continue;
    bytes += A.save(agentDocument(fleet, own)).byteLength;
    sessions += own.length;
  }
  return { bytesPerSession: sessions ? bytes / sessions : 0, sessions };
}

function agentDocument(fleet: Fleet, sessions: IdentifiedSession[]): A.Doc<unknown> {
  const day = sessions[0].id.slice(0, 10);
  const events: { at: number; session: IdentifiedSession; ended: boolean }[] = [];
  for (const s of sessions) {
    events.push({ at: s.start, session: s, ended: false });
    if (s.end !== null) events.push({ at: s.end, session: s, ended: true });
  }
  events.sort((a, b) => a.at - b.at);
  let doc = A.init<Record<string, Uint8Array>>();
  const programs = new Map<string, number>();
  for (let i = 0; i < events.length;) {
    const flushAt = events[i].at + FLUSH_MS;
    const batch: typeof events = [];
    while (i < events.length && events[i].at <= flushAt) batch.push(events[i++]);
    doc = A.change(doc, (d) => {
      for (const { session: s, ended } of batch) {
        const rule = fleet.rules[s.rule];
        const record: UsageSession = {
          id: s.id,
          ruleId: rule.id,
          user: fleet.users[s.user],
          exe: rule.exe,
          argv0: rule.argv0,
          version: rule.version,
          pid: s.pid,
          start: s.start,
          end: ended ? s.end : null,
          startNotCaptured: s.startNotCaptured,
          endNotCaptured: false,
          remote: s.remote,
        };
        const key = `${s.rule}\u0000${s.user}`;
        let program = programs.get(key);
        if (program === undefined) {
          programs.set(key, program = programs.size);
          d[`p${program}`] = encodeProgram(record);
        }
        d[s.id.slice(11)] = encodeSession(day, record, program);
      }
    });
  }
  return doc;
}
