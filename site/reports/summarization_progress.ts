/**
 * The `summarization-progress` report: per rule, how many changed sessions
 * wait in `summary_pending` for the summariser, the start of the oldest of
 * them, and up to which instant the rule's summaries are complete: the
 * site's `summarizedUntil` when nothing waits, else the earlier of it and
 * the oldest waiting start (a late session changes the hours from its
 * start on). Every rule that applies here has a row, and so does a rule id
 * seen only among the waiting sessions. Read live.
 *
 * @module
 */
import { z } from "zod";
import type { Client } from "../../store/db.ts";
import { loadSummaryState } from "../summaries/summary_state.ts";
import { iso } from "./figures.ts";
import { formatParam } from "./report_params.ts";
import type { Report } from "./report.ts";
import { rulesAnd } from "./report_rules.ts";

const query = z.object({ format: formatParam }).strict();

const row = z.object({
  ruleId: z.string(),
  ruleName: z.string().nullable(),
  waitingSessions: z.number(),
  oldestWaitingStart: z.string().nullable(),
  /** null before the first summarisation. */
  completeUntil: z.string().nullable(),
});

const extra = z.object({
  summarizedUntil: z.string().nullable(),
  runningRefreshedAt: z.string().nullable(),
});

interface Waiting {
  count: number;
  oldest: number;
}

async function waitingByRule(db: Client) {
  const result = await db.execute(
    "SELECT rule_id, count(*) AS count, min(start_ms) AS oldest FROM summary_pending GROUP BY rule_id",
  );
  return new Map<string, Waiting>(result.rows.map((r) => [r.rule_id as string, {
    count: r.count as number,
    oldest: r.oldest as number,
  }]));
}

export const summarizationProgressReport: Report<typeof query, typeof row> = {
  name: "summarization-progress",
  summary: "per rule: sessions waiting to be summarised, the oldest waiting start, and up to " +
    "when summaries are complete",
  query,
  row,
  extra,
  freshness: "live",
  async run({ db }) {
    const state = await loadSummaryState(db);
    const waiting = await waitingByRule(db);
    const until = state.summarizedUntil || null;
    const rows = (await rulesAnd(db, waiting.keys())).map(({ ruleId, ruleName }) => {
      const wait = waiting.get(ruleId);
      const complete = wait && until !== null ? Math.min(until, wait.oldest) : until;
      return {
        ruleId,
        ruleName,
        waitingSessions: wait?.count ?? 0,
        oldestWaitingStart: iso(wait?.oldest),
        completeUntil: iso(complete),
      };
    });
    return {
      parameters: {},
      rows,
      extra: {
        summarizedUntil: iso(until),
        runningRefreshedAt: iso(state.runningRefreshedAt || null),
      },
    };
  },
};
