/**
 * The columns of a usage session as both ends keep it in libSQL: the
 * agent's sessions not yet written to their document (`agent_sessions`) and
 * the site's rows made from usage documents (`usage_sessions`). One
 * definition, so that a field added to the session record is added to both
 * tables alike. Each table adds its own keys and bookkeeping around them; a
 * column added here needs a migration of each database too
 * (`site/site_migrations.ts`, `agent/agent_migrations.ts`).
 *
 * @module
 */

/** The session's columns, as SQL column definitions for a `CREATE TABLE`. */
export const SESSION_COLUMNS_SQL = `rule_id TEXT NOT NULL,
    user_name TEXT NOT NULL,
    exe TEXT NOT NULL,
    argv0 TEXT NOT NULL,
    version TEXT,
    pid INTEGER NOT NULL,
    start_ms INTEGER NOT NULL,
    end_ms INTEGER,
    start_not_captured INTEGER NOT NULL,
    end_not_captured INTEGER NOT NULL,
    remote INTEGER NOT NULL,
    language TEXT`;
