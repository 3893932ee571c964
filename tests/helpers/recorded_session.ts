/**
 * Puts an ended session in an agent's database as the session recorder
 * does (numbered by its day's counter, not yet written to a document), for
 * tests of what the usage writer and the sync make of it.
 *
 * @module
 */
import { dayOf } from "../../model/doc_id.ts";
import type { Client } from "../../store/db.ts";

export interface RecordedRun {
  start: number;
  end: number;
  exe: string;
  argv0?: string;
  pid: number;
}

/** Records the run as a session of rule `S01-1` by user `ann`; returns its id. */
export async function recordSession(db: Client, run: RecordedRun): Promise<string> {
  const day = dayOf(run.start);
  const counter = await db.execute({
    sql: "SELECT next FROM day_counters WHERE day = ?",
    args: [day],
  });
  const seq = Number(counter.rows[0]?.next ?? 1);
  await db.batch([
    {
      sql: "INSERT INTO day_counters (day, next) VALUES (?, ?) " +
        "ON CONFLICT (day) DO UPDATE SET next = excluded.next",
      args: [day, seq + 1],
    },
    {
      sql: `INSERT INTO agent_sessions (id, day, seq, rule_id, user_name, exe, argv0, version, pid,
        start_ticks, boot_id, start_ms, end_ms, start_not_captured, end_not_captured, remote)
        VALUES (?, ?, ?, 'S01-1', 'ann', ?, ?, NULL, ?, 1, 'boot', ?, ?, 0, 0, 0)`,
      args: [
        `${day}/${seq}`,
        day,
        seq,
        run.exe,
        run.argv0 ?? run.exe,
        run.pid,
        run.start,
        run.end,
      ],
    },
  ], "write");
  return `${day}/${seq}`;
}
