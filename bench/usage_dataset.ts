/**
 * A fleet's usage history written straight into a site database, as it
 * stands at one instant: the `rules` and `clients` rows, and every session
 * that started in the days before it in `usage_sessions` (those still
 * running then without an end), through the site's own schema and the bulk
 * insert materialisation uses (rows as one JSON array spread by
 * `json_each`). Local dates are written in order, so rows lie in the table
 * roughly in the order a site receives them.
 *
 * Some clients are late: their agents have been offline, so the history
 * holds their sessions only up to `lateDays` before the instant, and
 * `usage_arrivals.ts` delivers the rest later.
 *
 * No `summary_pending` rows are written: the benchmark builds the summaries
 * from scratch next.
 *
 * @module
 */
import type { Client, InStatement } from "../store/db.ts";
import { DAY_MS } from "../model/doc_id.ts";
import type { Fleet } from "./usage_fleet.ts";
import {
  type ClientRowValues,
  insertClientRowsStatement,
  insertSessionRowsStatements,
  type SessionRowValues,
} from "../site/mod.ts";

export interface HistoryOptions {
  /** The instant the history ends: sessions running then have no end yet. */
  end: number;
  days: number;
  /** Every how-manyth client is late (0: none). */
  lateEvery: number;
  lateDays: number;
  progress?: (message: string) => void;
}

export interface HistorySummary {
  sessions: number;
  running: number;
  multiDay: number;
  remote: number;
  users: number;
  seconds: number;
}

const ROWS_PER_STATEMENT = 10_000;

/** Whether a client's agent has been offline for the last `lateDays`. */
export function isLate(clientIndex: number, lateEvery: number): boolean {
  return lateEvery > 0 && clientIndex % lateEvery === lateEvery - 1;
}

/** The instant up to which the site holds a client's usage. */
export function heldUntil(clientIndex: number, options: HistoryOptions): number {
  return isLate(clientIndex, options.lateEvery)
    ? options.end - options.lateDays * DAY_MS
    : options.end;
}

export async function writeUsageHistory(
  db: Client,
  fleet: Fleet,
  options: HistoryOptions,
): Promise<HistorySummary> {
  const started = performance.now();
  const { end, days } = options;
  const from = end - days * DAY_MS;
  await db.batch(
    fleet.rules.map((rule, i) => ({
      sql: `INSERT INTO rules (id, name, file_name, original_file_name, sha256, version, language,
          site_code, apply_to_child_sites, enabled, comment, origin, created_at, updated_at)
        VALUES (?, ?, ?, NULL, NULL, '*', NULL, 'S01', ?, 1, '', 'manual', ?, ?)`,
      args: [rule.id, rule.name, rule.fileName, i % 5 === 0 ? 1 : 0, from, from],
    })),
    "write",
  );
  const clientRows = fleet.clients.map((c, i): ClientRowValues => {
    const until = heldUntil(i, options);
    return [
      c.id,
      c.hostName,
      "Ubuntu",
      "24.04.1 LTS",
      "6.8.0-49-generic",
      "x86_64",
      c.timeZone,
      "0.1.0",
      from - DAY_MS,
      "bench",
      until,
      until,
    ];
  });
  for (let i = 0; i < clientRows.length; i += ROWS_PER_STATEMENT) {
    await db.execute(
      insertClientRowsStatement(clientRows.slice(i, i + ROWS_PER_STATEMENT)),
    );
  }

  const summary: HistorySummary = {
    sessions: 0,
    running: 0,
    multiDay: 0,
    remote: 0,
    users: 0,
    seconds: 0,
  };
  const users = new Set<number>();
  const counters = fleet.clients.map(() => new Map<number, number>());
  const until = fleet.clients.map((_, i) => heldUntil(i, options));
  const firstDate = Math.floor(from / DAY_MS) - 1;
  const lastDate = Math.floor(end / DAY_MS) + 1;
  let rows: SessionRowValues[] = [];
  let statements: InStatement[] = [];
  const flushRows = () => {
    if (rows.length > 0) statements.push(...insertSessionRowsStatements(rows));
    rows = [];
  };
  for (let date = firstDate; date <= lastDate; date++) {
    for (let c = 0; c < fleet.clients.length; c++) {
      const client = fleet.clients[c];
      const dayCounters = counters[c];
      dayCounters.delete(date - 3);
      for (const s of fleet.sessionsOfLocalDate(c, date)) {
        const day = Math.floor(s.start / DAY_MS);
        const n = dayCounters.get(day) ?? 0;
        dayCounters.set(day, n + 1);
        if (s.start < from || s.start >= until[c]) continue;
        const running = s.end === null || s.end > until[c];
        const rule = fleet.rules[s.rule];
        rows.push([
          client.id,
          `${fleet.day(day)}/${n}`,
          rule.id,
          fleet.users[s.user],
          rule.exe,
          rule.argv0,
          rule.version,
          s.pid,
          s.start,
          running ? null : s.end,
          s.startNotCaptured ? 1 : 0,
          !running && s.endNotCaptured ? 1 : 0,
          s.remote ? 1 : 0,
          Math.min(until[c], (running ? s.start : s.end!) + 45_000),
          0, // no clock correction: the simulated agents' clocks are right
          null, // no language
        ]);
        summary.sessions++;
        if (running) summary.running++;
        else if (s.end! - s.start > DAY_MS) summary.multiDay++;
        if (s.remote) summary.remote++;
        users.add(s.user);
        if (rows.length === ROWS_PER_STATEMENT) flushRows();
      }
    }
    flushRows();
    await db.batch(statements, "write");
    statements = [];
    if ((date - firstDate) % 10 === 0 || date === lastDate) {
      const seconds = (performance.now() - started) / 1000;
      options.progress?.(
        `history: local date ${fleet.day(date)}, ${summary.sessions} sessions written ` +
          `(${Math.round(summary.sessions / seconds)}/s)`,
      );
    }
  }
  summary.users = users.size;
  summary.seconds = (performance.now() - started) / 1000;
  return summary;
}
