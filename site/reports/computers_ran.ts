/**
 * The `computers-ran` report: the computers that ran a rule's program in a
 * month, with their run count, run time and last use, from `monthly_usage`
 * (its primary key starts with rule and month) summed over the computer's
 * users. Ordered by host name.
 *
 * @module
 */
import { z } from "zod";
import { hours, iso } from "./figures.ts";
import { ranReport } from "./ran_report.ts";

export const computersRanReport = ranReport({
  name: "computers-ran",
  summary: "computers that ran the program that month, with run count, run time and last use",
  row: z.object({
    clientId: z.string(),
    hostName: z.string(),
    runs: z.number(),
    runHours: z.number(),
    lastUse: z.string(),
  }),
  columns: ["client_id", "host_name", "runs", "run_ms", "last_use_ms"],
  orderBy: "host_name, client_id",
  // `+client_id`: group after a range of the primary key (rule, month)
  // rather than walk the rule's every month through the last-use index.
  select: (where) =>
    `SELECT m.*, coalesce(c.host_name, d.host_name) AS host_name FROM (
      SELECT client_id, sum(runs) AS runs, sum(run_ms) AS run_ms, max(last_use_ms) AS last_use_ms
      FROM monthly_usage WHERE ${where} GROUP BY +client_id
    ) m LEFT JOIN clients c ON c.client_id = m.client_id
    LEFT JOIN descendant_clients d ON d.client_id = m.client_id`,
  show: (r) => ({
    clientId: r.client_id as string,
    hostName: (r.host_name as string | null) ?? "",
    runs: r.runs as number,
    runHours: hours(r.run_ms as number),
    lastUse: iso(r.last_use_ms as number)!,
  }),
});
