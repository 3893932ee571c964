/**
 * How fresh the summaries are: the moment up to which every session the
 * site held had been summarised (`summarizedUntil`), and when the run time
 * of sessions still running was last brought up to date. Reports state the
 * first as the time of the freshest data they used.
 *
 * @module
 */
import type { Client, InStatement } from "../../store/db.ts";
import { KeyValueTable } from "../../store/key_value_table.ts";

const SUMMARIZED_UNTIL = "summarized_until";
const RUNNING_REFRESHED_AT = "running_refreshed_at";
const LAST_RUN_AT = "summarizer_last_run_at";

export interface SummaryState {
  /** ms since the epoch; 0 before the first run. */
  summarizedUntil: number;
  runningRefreshedAt: number;
  /** When the summariser last recomputed anything. */
  lastRunAt: number;
}

export async function loadSummaryState(db: Client): Promise<SummaryState> {
  const meta = new KeyValueTable(db, "site_meta");
  return {
    summarizedUntil: Number(await meta.get(SUMMARIZED_UNTIL) ?? 0),
    runningRefreshedAt: Number(await meta.get(RUNNING_REFRESHED_AT) ?? 0),
    lastRunAt: Number(await meta.get(LAST_RUN_AT) ?? 0),
  };
}

export function summaryStateStatements(db: Client, state: SummaryState): InStatement[] {
  const meta = new KeyValueTable(db, "site_meta");
  return [
    meta.setStatement(SUMMARIZED_UNTIL, String(state.summarizedUntil)),
    meta.setStatement(RUNNING_REFRESHED_AT, String(state.runningRefreshedAt)),
    meta.setStatement(LAST_RUN_AT, String(state.lastRunAt)),
  ];
}
