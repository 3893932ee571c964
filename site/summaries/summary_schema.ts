/**
 * The summary tables, built from `usage_sessions` by the summariser and read
 * by every report. What each figure means:
 *
 * - A session runs over `[start, end)`; one still running counts up to the
 *   moment the summariser last refreshed running sessions.
 * - **runs** of a bucket are the sessions that *started* in it, so runs add
 *   up over hours, days and months; **run_ms** is the time sessions ran
 *   *within* it, so it adds up too.
 * - **Peaks** are exact: a sweep over the intervals of the sessions that
 *   overlap the hour, ends before starts at the same instant; runs of no
 *   length count at their instant, together. `peak_sessions`
 *   counts sessions, `peak_users` distinct user names (one user with three
 *   windows open counts once); `*_at` is the first instant the peak was
 *   reached.
 * - **remote** figures count sessions flagged `remote` only.
 * - **pairs** are distinct (user, computer) pairs.
 * - A `daily_usage` row's `local_hours` says in which hours of the
 *   computer's local clock the user ran the rule's program that UTC day, and
 *   `time_zone` the zone that clock was read in (`local_hours_mask.ts`).
 *   `local_user_hours` is, per rule, local date, time zone and user, the
 *   union of those hours over the site's computers, and `local_hour_users`
 *   counts its users per rule, local date, local hour (weekday 1 = Monday
 *   ... 7 = Sunday) and time zone, for the time-of-day report. The zone is
 *   kept because the report's window is each computer's own last N local
 *   dates, which end on different dates in different zones at the same
 *   instant; a user seen in two zones in the same local hour counts once in
 *   each. Rows summarised before zones were kept read as UTC, as the report
 *   read every row then. A day's hours ride on its usage row rather than a
 *   row per hour: a twentieth of the bytes.
 * - `monthly_totals` is per rule and month what `total-usage` and
 *   `remote-usage` show, so those reports read one row per rule.
 *
 * Every table is rebuilt from raw sessions bucket by bucket (an hour, a
 * computer's day, a month): see `summarizer.ts`. `summary_pending` lists the
 * sessions that changed since the summaries last saw them (with whether the
 * site knew them as running before); materialisation adds to it in the same
 * transaction as the session.
 *
 * @module
 */
/** One rule's figures for one hour, as `hourly_usage` and a parent's `site_hourly_usage` hold them. */
export const HOURLY_FIGURES = `pairs INTEGER NOT NULL,
    users INTEGER NOT NULL,
    computers INTEGER NOT NULL,
    runs INTEGER NOT NULL,
    run_ms INTEGER NOT NULL,
    peak_sessions INTEGER NOT NULL,
    peak_sessions_at INTEGER,
    peak_users INTEGER NOT NULL,
    peak_users_at INTEGER,
    remote_runs INTEGER NOT NULL,
    remote_run_ms INTEGER NOT NULL`;

/** Distinct users per rule, local date, local hour and time zone. */
export const LOCAL_HOUR_USERS_TABLE = `CREATE TABLE IF NOT EXISTS local_hour_users (
    rule_id TEXT NOT NULL,
    local_date TEXT NOT NULL,
    local_hour INTEGER NOT NULL,
    weekday INTEGER NOT NULL,
    users INTEGER NOT NULL,
    time_zone TEXT NOT NULL,
    PRIMARY KEY (rule_id, local_date, local_hour, time_zone)
  ) WITHOUT ROWID`;

/** Per rule, local date, time zone and user: the local hours (bit h: hour h) they ran it in. */
export const LOCAL_USER_HOURS_TABLE = `CREATE TABLE IF NOT EXISTS local_user_hours (
    rule_id TEXT NOT NULL,
    local_date TEXT NOT NULL,
    time_zone TEXT NOT NULL,
    user_name TEXT NOT NULL,
    hours INTEGER NOT NULL,
    PRIMARY KEY (rule_id, local_date, time_zone, user_name)
  ) WITHOUT ROWID`;

/**
 * `daily_usage` is keyed by day first: summaries are written a day at a time,
 * so rows are added at the end of the table rather than all over it, and
 * every reader asks for a day, or days, first. No other index by day is
 * needed.
 */
export const summarySchema = [
  `CREATE TABLE IF NOT EXISTS summary_pending (
    id INTEGER PRIMARY KEY,
    rule_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    start_ms INTEGER NOT NULL,
    end_ms INTEGER,
    was_running INTEGER NOT NULL DEFAULT 0
  )`,
  // For summarization-progress: what waits, per rule, during a backfill.
  `CREATE INDEX IF NOT EXISTS summary_pending_by_rule ON summary_pending (rule_id, start_ms)`,
  `CREATE TABLE IF NOT EXISTS hourly_usage (
    rule_id TEXT NOT NULL,
    hour_ms INTEGER NOT NULL,
    ${HOURLY_FIGURES},
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (rule_id, hour_ms)
  ) WITHOUT ROWID`,
  `CREATE INDEX IF NOT EXISTS hourly_usage_by_hour ON hourly_usage (hour_ms)`,
  `CREATE TABLE IF NOT EXISTS daily_usage (
    client_id TEXT NOT NULL,
    day TEXT NOT NULL,
    rule_id TEXT NOT NULL,
    user_name TEXT NOT NULL,
    runs INTEGER NOT NULL,
    run_ms INTEGER NOT NULL,
    last_use_ms INTEGER NOT NULL,
    remote_runs INTEGER NOT NULL,
    remote_run_ms INTEGER NOT NULL,
    time_zone TEXT NOT NULL DEFAULT 'UTC',
    local_hours INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, client_id, rule_id, user_name)
  ) WITHOUT ROWID`,
  // A licence's pool over the first, partial month of its window; a user's
  // hours of a rule on the days around a local date.
  `CREATE INDEX IF NOT EXISTS daily_usage_by_rule_day ON daily_usage (rule_id, day, user_name)`,
  `CREATE TABLE IF NOT EXISTS monthly_usage (
    rule_id TEXT NOT NULL,
    month TEXT NOT NULL,
    user_name TEXT NOT NULL,
    client_id TEXT NOT NULL,
    runs INTEGER NOT NULL,
    run_ms INTEGER NOT NULL,
    last_use_ms INTEGER NOT NULL,
    remote_runs INTEGER NOT NULL,
    remote_run_ms INTEGER NOT NULL,
    PRIMARY KEY (rule_id, month, user_name, client_id)
  ) WITHOUT ROWID`,
  `CREATE INDEX IF NOT EXISTS monthly_usage_by_client ON monthly_usage (client_id, month)`,
  `CREATE INDEX IF NOT EXISTS monthly_usage_last_use ON monthly_usage (rule_id, client_id, last_use_ms)`,
  `CREATE TABLE IF NOT EXISTS monthly_totals (
    rule_id TEXT NOT NULL,
    month TEXT NOT NULL,
    users INTEGER NOT NULL,
    computers INTEGER NOT NULL,
    runs INTEGER NOT NULL,
    run_ms INTEGER NOT NULL,
    remote_users INTEGER NOT NULL,
    remote_computers INTEGER NOT NULL,
    remote_runs INTEGER NOT NULL,
    remote_run_ms INTEGER NOT NULL,
    PRIMARY KEY (rule_id, month)
  ) WITHOUT ROWID`,
  LOCAL_USER_HOURS_TABLE,
  LOCAL_HOUR_USERS_TABLE,
] as const;
