/**
 * Licence alerts: after each refresh, every position is judged `ok`, `near`
 * (consumption at or over the licence's `alertAtPercent` of what is owned)
 * or `shortfall` (more consumed than owned). When a licence's state turns
 * worse, the site records an event and, if a webhook is set, queues its
 * notification (`webhook_sender.ts`) in the same transaction, so that a
 * restart loses none; when it turns better, a `recovered` event is recorded
 * for the console, and nobody is woken for it. The same state twice records
 * nothing, so a shortfall notifies once, not at every refresh.
 *
 * @module
 */
import type { Client, InStatement } from "../../store/db.ts";
import type { LicencePosition } from "./licence_position.ts";

export const licenceAlertsSchema = [
  `CREATE TABLE IF NOT EXISTS licence_alert_state (
    licence_id TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    since INTEGER NOT NULL
  )`,
  `CREATE TABLE IF NOT EXISTS licence_events (
    id INTEGER PRIMARY KEY,
    licence_id TEXT NOT NULL,
    licence_name TEXT NOT NULL,
    kind TEXT NOT NULL,
    at INTEGER NOT NULL,
    owned INTEGER NOT NULL,
    consumed INTEGER NOT NULL,
    percent REAL,
    message TEXT NOT NULL
  )`,
  `CREATE INDEX IF NOT EXISTS licence_events_by_time ON licence_events (at)`,
  // One row per notification to send, until it is delivered or given up.
  `CREATE TABLE IF NOT EXISTS webhook_outbox (
    event_id INTEGER PRIMARY KEY,
    url TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at INTEGER NOT NULL,
    delivered_at INTEGER,
    failed_at INTEGER,
    last_error TEXT
  )`,
  `CREATE INDEX IF NOT EXISTS webhook_outbox_due ON webhook_outbox (next_at)
    WHERE delivered_at IS NULL AND failed_at IS NULL`,
] as const;

export type AlertState = "ok" | "near" | "shortfall";
const RANK: Record<AlertState, number> = { ok: 0, near: 1, shortfall: 2 };

/** What a position says, given the licence's `alertAtPercent`. */
export function alertState(p: LicencePosition, alertAtPercent: number | null): AlertState {
  if (p.shortfall > 0) return "shortfall";
  const near = alertAtPercent !== null && p.consumed > 0 &&
    p.consumed * 100 >= p.owned * alertAtPercent;
  return near ? "near" : "ok";
}

export interface LicenceEvent {
  id: number;
  licenceId: string;
  licenceName: string;
  kind: "shortfall" | "near" | "recovered";
  at: number;
  owned: number;
  consumed: number;
  percent: number | null;
  message: string;
}

/**
 * Records the events of the positions whose state changed; `webhook` is the
 * URL to notify, if any. Licences no longer positioned here lose their state.
 */
export async function recordAlerts(
  db: Client,
  write: (statements: InStatement[]) => Promise<unknown>,
  positions: { position: LicencePosition; alertAtPercent: number | null }[],
  webhook: string | null,
  now: number,
): Promise<number> {
  const stored = await db.execute("SELECT licence_id, state FROM licence_alert_state");
  const before = new Map(stored.rows.map((r) => [r.licence_id as string, r.state as AlertState]));
  const statements: InStatement[] = [{
    sql: `DELETE FROM licence_alert_state WHERE licence_id NOT IN
      (SELECT value FROM json_each(?))`,
    args: [JSON.stringify(positions.map(({ position }) => position.licenceId))],
  }];
  let events = 0;
  for (const { position, alertAtPercent } of positions) {
    const state = alertState(position, alertAtPercent);
    const previous = before.get(position.licenceId) ?? "ok";
    if (before.get(position.licenceId) === state) continue;
    statements.push({
      sql: "INSERT OR REPLACE INTO licence_alert_state (licence_id, state, since) VALUES (?, ?, ?)",
      args: [position.licenceId, state, now],
    });
    if (state === previous) continue; // a new licence that is fine
    const kind = RANK[state] > RANK[previous] ? state as "near" | "shortfall" : "recovered";
    statements.push(
      ...eventStatements(position, kind, now, RANK[state] > RANK[previous] ? webhook : null),
    );
    events++;
  }
  await write(statements);
  return events;
}

function eventStatements(
  p: LicencePosition,
  kind: LicenceEvent["kind"],
  now: number,
  webhook: string | null,
): InStatement[] {
  const statements: InStatement[] = [{
    sql: `INSERT INTO licence_events (licence_id, licence_name, kind, at, owned, consumed,
      percent, message) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    args: [p.licenceId, p.name, kind, now, p.owned, p.consumed, p.percent, messageOf(p, kind)],
  }];
  if (webhook) {
    statements.push({
      sql: `INSERT INTO webhook_outbox (event_id, url, next_at) VALUES (last_insert_rowid(), ?, ?)`,
      args: [webhook, now],
    });
  }
  return statements;
}

function messageOf(p: LicencePosition, kind: LicenceEvent["kind"]): string {
  const figures = `${p.consumed} consumed of ${p.owned} owned`;
  switch (kind) {
    case "shortfall":
      return `${p.name} (${p.licenceId}) is short of ${p.shortfall} licence(s): ${figures}`;
    case "near":
      return `${p.name} (${p.licenceId}) is at ${p.percent}% of what is owned: ${figures}`;
    case "recovered":
      return `${p.name} (${p.licenceId}) is within what is owned again: ${figures}`;
  }
}

/** The newest events first. */
export async function listLicenceEvents(db: Client, limit: number): Promise<LicenceEvent[]> {
  const result = await db.execute({
    sql: "SELECT * FROM licence_events ORDER BY id DESC LIMIT ?",
    args: [limit],
  });
  return result.rows.map(eventOfRow);
}

/** One event; undefined when there is none of that id. */
export async function licenceEvent(db: Client, id: number): Promise<LicenceEvent | undefined> {
  const result = await db.execute({ sql: "SELECT * FROM licence_events WHERE id = ?", args: [id] });
  return result.rows.map(eventOfRow)[0];
}

function eventOfRow(r: Record<string, unknown>): LicenceEvent {
  return {
    id: Number(r.id),
    licenceId: r.licence_id as string,
    licenceName: r.licence_name as string,
    kind: r.kind as LicenceEvent["kind"],
    at: Number(r.at),
    owned: Number(r.owned),
    consumed: Number(r.consumed),
    percent: r.percent === null ? null : Number(r.percent),
    message: r.message as string,
  };
}
