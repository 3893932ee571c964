/**
 * The columns of a usage session as the agent keeps it in libSQL until it is
 * written to its document (`agent_sessions`). The site keeps the same fields
 * (`site/usage/sessions_table.ts`), but names the program (executable,
 * argv[0], version, language) by id in `session_programs`, since a fleet runs
 * each program a great many times. A field added to the session record is
 * added to both, with a migration of each database
 * (`site/site_migrations.ts`, `agent/agent_migrations.ts`).
 *
 * @module
 */

/** The run's own columns (not what ran): the same at both ends. */
export const SESSION_RUN_COLUMNS_SQL = `pid INTEGER NOT NULL,
    start_ms INTEGER NOT NULL,
    end_ms INTEGER,
    start_not_captured INTEGER NOT NULL,
    end_not_captured INTEGER NOT NULL,
    remote INTEGER NOT NULL`;

/** The session's columns, as SQL column definitions for a `CREATE TABLE`. */
export const SESSION_COLUMNS_SQL = `rule_id TEXT NOT NULL,
    user_name TEXT NOT NULL,
    exe TEXT NOT NULL,
    argv0 TEXT NOT NULL,
    version TEXT,
    ${SESSION_RUN_COLUMNS_SQL},
    language TEXT`;
