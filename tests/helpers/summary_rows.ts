/**
 * Known rows written straight into a site's tables for report tests: rules,
 * clients, and the summary tables the summariser would fill, each with only
 * the columns a test cares about (the rest get neutral values).
 *
 * @module
 */
import type { Client } from "../../store/db.ts";

async function insert(db: Client, table: string, rows: Record<string, unknown>[]) {
  if (rows.length === 0) return;
  const columns = Object.keys(rows[0]);
  const sql = `INSERT INTO ${table} (${columns.join(", ")}) VALUES (${
    columns.map(() => "?").join(", ")
  })`;
  await db.batch(
    rows.map((row) => ({ sql, args: columns.map((c) => row[c] as never) })),
    "write",
  );
}

export interface RuleRow {
  id: string;
  name: string;
  siteCode?: string;
  enabled?: boolean;
  applyToChildSites?: boolean;
  origin?: "manual" | "auto";
  fileName?: string | null;
  sha256?: string | null;
  language?: string | null;
}

export function insertRules(db: Client, rules: RuleRow[]) {
  return insert(
    db,
    "rules",
    rules.map((r) => ({
      id: r.id,
      name: r.name,
      file_name: r.fileName === undefined ? "prog" : r.fileName,
      original_file_name: null,
      sha256: r.sha256 ?? null,
      version: "*",
      language: r.language ?? null,
      site_code: r.siteCode ?? r.id.slice(0, 3),
      apply_to_child_sites: r.applyToChildSites ? 1 : 0,
      enabled: r.enabled === false ? 0 : 1,
      comment: "",
      origin: r.origin ?? "manual",
      created_at: 0,
      updated_at: 0,
    })),
  );
}

export async function insertClients(db: Client, clients: { id: string; hostName: string }[]) {
  // Older schemas keep the agent's secret hash in `clients` itself.
  const secretHere = await db.execute(
    "SELECT 1 FROM pragma_table_info('clients') WHERE name = 'secret_hash'",
  );
  await insert(
    db,
    "clients",
    clients.map((c) => ({
      client_id: c.id,
      host_name: c.hostName,
      enrolled_at: 0,
      enrolled_with: "test",
      ...(secretHere.rows.length ? { secret_hash: "x" } : {}),
    })),
  );
}

export interface MonthlyRow {
  rule: string;
  month: string;
  user: string;
  client: string;
  runs: number;
  runMs: number;
  lastUse: number;
}

export function insertMonthlyUsage(db: Client, rows: MonthlyRow[]) {
  return insert(
    db,
    "monthly_usage",
    rows.map((r) => ({
      rule_id: r.rule,
      month: r.month,
      user_name: r.user,
      client_id: r.client,
      runs: r.runs,
      run_ms: r.runMs,
      last_use_ms: r.lastUse,
      remote_runs: 0,
      remote_run_ms: 0,
    })),
  );
}

export interface TotalsRow {
  rule: string;
  month: string;
  users: number;
  computers: number;
  runs: number;
  runMs: number;
  remoteUsers?: number;
  remoteComputers?: number;
  remoteRuns?: number;
  remoteRunMs?: number;
}

export function insertMonthlyTotals(db: Client, rows: TotalsRow[]) {
  return insert(
    db,
    "monthly_totals",
    rows.map((r) => ({
      rule_id: r.rule,
      month: r.month,
      users: r.users,
      computers: r.computers,
      runs: r.runs,
      run_ms: r.runMs,
      remote_users: r.remoteUsers ?? 0,
      remote_computers: r.remoteComputers ?? 0,
      remote_runs: r.remoteRuns ?? 0,
      remote_run_ms: r.remoteRunMs ?? 0,
    })),
  );
}

export interface HourRow {
  rule: string;
  hour: number;
  peakUsers: number;
  peakUsersAt: number | null;
  peakSessions: number;
  peakSessionsAt: number | null;
}

export function insertHourlyUsage(db: Client, rows: HourRow[]) {
  return insert(
    db,
    "hourly_usage",
    rows.map((r) => ({
      rule_id: r.rule,
      hour_ms: r.hour,
      pairs: r.peakUsers,
      users: r.peakUsers,
      computers: r.peakUsers,
      runs: r.peakSessions,
      run_ms: 0,
      peak_sessions: r.peakSessions,
      peak_sessions_at: r.peakSessionsAt,
      peak_users: r.peakUsers,
      peak_users_at: r.peakUsersAt,
      remote_runs: 0,
      remote_run_ms: 0,
      updated_at: 0,
    })),
  );
}

export interface LocalHourRow {
  rule: string;
  date: string;
  hour: number;
  weekday: number;
  users: number;
  /** Default UTC. */
  timeZone?: string;
}

export function insertLocalHourUsers(db: Client, rows: LocalHourRow[]) {
  return insert(
    db,
    "local_hour_users",
    rows.map((r) => ({
      rule_id: r.rule,
      local_date: r.date,
      local_hour: r.hour,
      weekday: r.weekday,
      users: r.users,
      time_zone: r.timeZone ?? "UTC",
    })),
  );
}

export function insertPending(db: Client, rows: { rule: string; client: string; start: number }[]) {
  return insert(
    db,
    "summary_pending",
    rows.map((r) => ({ rule_id: r.rule, client_id: r.client, start_ms: r.start, end_ms: null })),
  );
}
