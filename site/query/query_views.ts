/**
 * The views that `POST /v1/query` may read, with what every column means.
 * They are TEMP views of the query connection (`query_executor.ts` creates
 * them when it opens), not part of the site's schema: nothing to migrate, and
 * they shadow the tables of the same name, so `SELECT * FROM clients` reads
 * the view. Each lists its columns explicitly.
 *
 * The tables behind them ({@linkcode QUERY_TABLES}) are the only ones a query
 * may open at all (`sessions` joins `session_programs` for what ran, and
 * `session_clients` and `session_users` for the computer's and user's names), and
 * the columns listed here, with the keys the views join by, the only ones it
 * may read from them (a query naming `main.clients` still cannot read
 * `enrolled_with`); a query that opens any other table (tokens, secrets,
 * documents, sync states, the schema) or reads another column is refused
 * before it runs. Every index of these tables holds only such columns, so no
 * query through the views is refused for the index the planner picks (a test
 * keeps it so).
 *
 * Times are ms since 1970 (UTC); `day` is `YYYY-MM-DD` and `month` `YYYY-MM`,
 * both UTC; flags are 0 or 1.
 *
 * @module
 */

export interface QueryView {
  name: string;
  /** The site table it shows. */
  table: string;
  description: string;
  /** Column name and what it holds. */
  columns: readonly (readonly [string, string])[];
  /**
   * Tables whose row each row names by id (`key` of `table` = the joined
   * table's `INTEGER PRIMARY KEY`), and which of the view's columns come
   * from each.
   */
  joins?: readonly {
    table: string;
    key: string;
    columns: readonly string[];
    /** Columns of the joined table only its indexes use, holding nothing the columns do not. */
    indexed?: readonly string[];
  }[];
}

const ruleId = ["rule_id", "the rule's id, e.g. S01-7 (see `rules`)"] as const;
const clientId = ["client_id", "the computer's id (see `clients`)"] as const;
const userName = ["user_name", "the user who ran it"] as const;
const runs = ["runs", "sessions that started in it"] as const;
const runMs = ["run_ms", "time run within it, summed over sessions"] as const;
const remoteRuns = ["remote_runs", "runs from remote login sessions"] as const;
const remoteRunMs = ["remote_run_ms", "run_ms of remote login sessions"] as const;
const lastUse = ["last_use_ms", "the last moment of use in it"] as const;

export const QUERY_VIEWS: readonly QueryView[] = [
  {
    name: "sessions",
    table: "session_rows",
    description: "usage sessions: one run of a metered program (kept rawRetentionDays)",
    columns: [
      clientId,
      ["session_id", "the session's id within its computer (day/n)"],
      ruleId,
      userName,
      ["exe", "the executable's path"],
      ["argv0", "argv[0] of the process"],
      ["version", "the program's version, if known (on Windows its FileVersion)"],
      ["language", "the program's language as the rule saw it, if known"],
      ["pid", "the process id"],
      ["start_ms", "when it started"],
      ["end_ms", "when it ended; NULL while it runs"],
      ["start_not_captured", "1 if it was running when the agent started"],
      ["end_not_captured", "1 if the agent stopped before it did (end_ms is the last sight)"],
      ["remote", "1 if started in a remote login session"],
      ["clock_offset_ms", "added to the agent's times for its clock's error (0 within a minute)"],
    ],
    joins: [
      {
        table: "session_programs",
        key: "program_id",
        columns: ["exe", "argv0", "version", "language"],
        // The four values as one JSON array: the key programs are found by.
        indexed: ["key"],
      },
      { table: "session_clients", key: "client_key", columns: ["client_id"] },
      { table: "session_users", key: "user_key", columns: ["user_name"] },
    ],
  },
  {
    name: "hourly_usage",
    table: "hourly_usage",
    description: "per rule and UTC hour: distinct users and computers, runs, run time, exact peaks",
    columns: [
      ruleId,
      ["hour_ms", "the start of the hour"],
      ["pairs", "distinct (user, computer) pairs that ran it"],
      ["users", "distinct users"],
      ["computers", "distinct computers"],
      runs,
      runMs,
      ["peak_sessions", "the most sessions running at once"],
      ["peak_sessions_at", "the first instant of that peak"],
      ["peak_users", "the most distinct users running it at once"],
      ["peak_users_at", "the first instant of that peak"],
      remoteRuns,
      remoteRunMs,
    ],
  },
  {
    name: "daily_usage",
    table: "daily_usage",
    description: "per computer, UTC day, rule and user: runs, run time, last use",
    columns: [
      clientId,
      ["day", "the UTC day, YYYY-MM-DD"],
      ruleId,
      userName,
      runs,
      runMs,
      lastUse,
      remoteRuns,
      remoteRunMs,
    ],
  },
  {
    name: "monthly_usage",
    table: "monthly_usage",
    description: "per rule, UTC month, user and computer: runs, run time, last use",
    columns: [
      ruleId,
      ["month", "the UTC month, YYYY-MM"],
      userName,
      clientId,
      runs,
      runMs,
      lastUse,
      remoteRuns,
      remoteRunMs,
    ],
  },
  {
    name: "clients",
    table: "clients",
    description: "enrolled computers and the facts their agents report",
    columns: [
      clientId,
      ["host_name", "host name"],
      ["os_name", "operating system"],
      ["os_version", "its version"],
      ["kernel", "kernel version"],
      ["arch", "CPU architecture"],
      ["time_zone", "IANA time zone, e.g. Europe/Paris"],
      ["agent_version", "the agent's version"],
      ["enrolled_at", "when it enrolled"],
      ["last_sync_at", "when it last synced (written every few seconds)"],
      ["last_usage_at", "the latest session start or end it reported"],
      ["clock_offset_ms", "the site's clock minus the agent's at its last sync; NULL unmeasured"],
      ["clock_checked_at", "when that was measured"],
    ],
  },
  {
    name: "rules",
    table: "rules",
    description: "the metering rules that apply at this site, its own and its parents'",
    columns: [
      ["id", "the rule's id, e.g. S01-7"],
      ["name", "the product name"],
      ["file_name", "glob on the executable's base name or argv[0]"],
      ["original_file_name", "base name of the real executable behind a link or rename"],
      ["sha256", "SHA-256 of the executable"],
      ["version", "version glob"],
      ["language", "language"],
      ["site_code", "the site that owns the rule"],
      ["apply_to_child_sites", "1 if child sites meter it too"],
      ["enabled", "1 if agents meter it"],
      ["comment", "the administrator's comment"],
      ["origin", "manual or auto"],
      ["created_at", "when it was created"],
      ["updated_at", "when it last changed"],
    ],
  },
  {
    name: "software",
    table: "software",
    description: "installed products, one row per computer and product, from the inventory",
    columns: [
      clientId,
      ["product_key", "<source>/<identity>, e.g. dpkg/coreutils:amd64"],
      ["name", "the product name"],
      ["name_lc", "the product name lower-cased, for matching without regard to case"],
      ["version", "its version"],
      ["publisher", "maintainer, vendor or publisher; empty if the source names none"],
      ["source", "dpkg, rpm, flatpak, snap or desktop"],
      ["installed_at", "when it was installed, where the source knows; else NULL"],
    ],
  },
  {
    name: "software_files",
    table: "software_files",
    description: "the executables each installed product provides",
    columns: [
      clientId,
      ["product_key", "the product (see software)"],
      ["path", "the executable's path"],
      ["file_name", "its base name, lower-cased: what rules' fileName globs match"],
      ["real_name", "base name (lower-cased) of the real file behind a link; NULL if the same"],
      ["sha256", "its SHA-256; NULL until the agent has read it"],
    ],
  },
];

/** The site tables queries may open: the ones the views show. */
export const QUERY_TABLES: readonly string[] = QUERY_VIEWS.flatMap((view) => [
  view.table,
  ...(view.joins ?? []).map((join) => join.table),
]);

/**
 * The columns a query may read, per table: those its views show, and the
 * keys they join by.
 */
export function visibleColumns(): Map<string, Set<string>> {
  const visible = new Map<string, Set<string>>();
  const add = (table: string, columns: Iterable<string>) => {
    const set = visible.get(table) ?? new Set<string>();
    for (const column of columns) set.add(column);
    visible.set(table, set);
  };
  for (const view of QUERY_VIEWS) {
    const joins = view.joins ?? [];
    const joined = new Set(joins.flatMap((join) => join.columns));
    add(view.table, view.columns.map(([column]) => column).filter((c) => !joined.has(c)));
    for (const join of joins) {
      add(view.table, [join.key]);
      add(join.table, ["id", ...join.columns, ...join.indexed ?? []]);
    }
  }
  return visible;
}

/** The statements that create the views in a query connection. */
export function viewStatements(): string[] {
  return QUERY_VIEWS.map((view) => {
    const joins = view.joins ?? [];
    // Each column from the table that holds it: `t`, or the joined `j0`, `j1`, ...
    const source = (column: string) => {
      const index = joins.findIndex((join) => join.columns.includes(column));
      return index < 0 ? "t" : `j${index}`;
    };
    const columns = view.columns.map(([column]) => `${source(column)}.${column}`);
    const from = [
      `main.${view.table} t`,
      ...joins.map((join, i) => `JOIN main.${join.table} j${i} ON j${i}.id = t.${join.key}`),
    ].join(" ");
    return `CREATE TEMP VIEW IF NOT EXISTS ${view.name} AS SELECT ${
      columns.join(", ")
    } FROM ${from}`;
  });
}
