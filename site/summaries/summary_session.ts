/**
 * A usage session as the summariser reads it: just what summaries need.
 *
 * @module
 */
import { DAY_MS } from "../../model/doc_id.ts";

export interface SummarySession {
  clientId: string;
  /** The computer's key in `session_clients`: distinct computers are counted by it. */
  clientKey: number;
  ruleId: string;
  user: string;
  /** The user's key in `session_users`: distinct users are counted by it. */
  userKey: number;
  start: number;
  /** `null` while it runs: the summariser counts it up to "now". */
  end: number | null;
  remote: boolean;
}

/** The session's end, or `now` while it runs (never before its start). */
export function endOf(session: SummarySession, now: number): number {
  return Math.max(session.start, session.end ?? now);
}

export { DAY_MS };
export const HOUR_MS = 3_600_000;

export const hourFloor = (ms: number) => Math.floor(ms / HOUR_MS) * HOUR_MS;
export const dayFloor = (ms: number) => Math.floor(ms / DAY_MS) * DAY_MS;
