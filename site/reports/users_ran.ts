/**
 * The `users-ran` report: the users who ran a rule's program in a month,
 * with how many computers they ran it on, run count, run time and last use,
 * from `monthly_usage` (one row per rule, month, user and computer, in that
 * key order, so the grouping follows the primary key).
 *
 * @module
 */
import { z } from "zod";
import { hours, iso } from "./figures.ts";
import { ranReport } from "./ran_report.ts";

export const usersRanReport = ranReport({
  name: "users-ran",
  summary: "users who ran the program that month, with computer count, run count, run time, " +
    "last use",
  row: z.object({
    user: z.string(),
    computers: z.number(),
    runs: z.number(),
    runHours: z.number(),
    lastUse: z.string(),
  }),
  columns: ["user_name", "computers", "runs", "run_ms", "last_use_ms"],
  orderBy: "user_name",
  select: (where) =>
    `SELECT user_name, count(*) AS computers, sum(runs) AS runs, sum(run_ms) AS run_ms,
      max(last_use_ms) AS last_use_ms
    FROM monthly_usage WHERE ${where} GROUP BY user_name`,
  show: (r) => ({
    user: r.user_name as string,
    computers: r.computers as number,
    runs: r.runs as number,
    runHours: hours(r.run_ms as number),
    lastUse: iso(r.last_use_ms as number)!,
  }),
});
