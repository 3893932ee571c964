/**
 * Sessions written straight into a site database with the site's own bulk
 * insert (no summary queued), for tests that need rows without agents:
 * unnamed fields get plain values.
 *
 * @module
 */
import type { InStatement } from "../../store/db.ts";
import {
  insertSessionRowsStatements,
  type SessionRowValues,
} from "../../site/usage/sessions_table.ts";

export interface StoredSession {
  client: string;
  id: string;
  start: number;
  end: number | null;
  rule?: string;
  user?: string;
  exe?: string;
  argv0?: string;
  version?: string | null;
  pid?: number;
  updatedAt?: number;
}

export function sessionRowsStatements(sessions: StoredSession[]): InStatement[] {
  return insertSessionRowsStatements(sessions.map((s): SessionRowValues => [
    s.client,
    s.id,
    s.rule ?? "S01-1",
    s.user ?? "ann",
    s.exe ?? "/usr/bin/x",
    s.argv0 ?? "x",
    s.version === undefined ? "1.0" : s.version,
    s.pid ?? 1,
    s.start,
    s.end,
    0,
    0,
    0,
    s.updatedAt ?? 0,
    0,
    null,
  ]));
}
