/**
 * Numbered schema versions for Meter's databases, kept in SQLite's
 * `PRAGMA user_version`: a database says which schema it has, so an upgrade
 * knows which steps it still needs, and an older Meter knows not to touch a
 * database a newer one wrote.
 *
 * When a database is opened ({@linkcode applyVersionedSchema}):
 *
 * - an empty one gets the current schema and the latest version at once, in
 *   one transaction;
 * - one at a lower version runs each later migration in a write transaction
 *   of its own, which sets `user_version` too, so a step is done whole or not
 *   at all, and one JSON log line says so; the step reads the version again
 *   inside its transaction, so a second process opening the same old file at
 *   the same moment waits, then finds the step done and skips it;
 * - one at a higher version is refused, unchanged, naming the versions;
 * - then the current schema's `CREATE ... IF NOT EXISTS` statements run, which
 *   make what a database from an older release lacks (a table or index new
 *   since), in its current shape. They run after the migrations, so an index
 *   on a column a migration adds is made once the column is there.
 *
 * Version 0 with tables is a database from before versions (0.1.0 and the
 * builds before it): its first migrations look at the shape they find and
 * change only what is not yet so.
 *
 * Writing a migration:
 *
 * 1. Change the `CREATE` statements to the new shape (what a new database gets).
 * 2. Append a step to the database's list (never reorder or edit a released
 *    step; the list's length is the latest version). Give it a short `name`.
 * 3. The step runs in the transaction it is handed: use `tx.execute` /
 *    `tx.batch`, never the client. It may find a table missing (a database
 *    from a release before the table existed, which the `CREATE` statements
 *    make afterwards): check with {@linkcode tableExists} and skip it.
 * 4. Spell out in the step the columns and tables it makes, rather than
 *    importing today's definitions, which later changes would move under it.
 * 5. Add a test that opens a database of the previous version with rows and
 *    finds every row kept and the version the latest.
 *
 * @module
 */
import type { Client, Transaction } from "@libsql/client";
import { log } from "../lib/log.ts";

/** Anything that runs SQL: the client, or a transaction on it. */
type Executor = Pick<Client | Transaction, "execute">;

/** One step from a version to the next, run inside its own write transaction. */
export interface Migration {
  /** A short name for the log, e.g. `client_secrets`. */
  name: string;
  run(tx: Transaction): Promise<void>;
}

/** A database's current schema and the steps from every earlier version to it. */
export interface VersionedSchema {
  /** Which database, for log lines and errors: `site`, `agent`. */
  database: string;
  /** The current schema; each statement idempotent (`CREATE ... IF NOT EXISTS`). */
  statements: readonly string[];
  /** Step `i` takes version `i` to `i + 1`; the latest version is the length. */
  migrations: readonly Migration[];
}

/** A database written by a newer Meter than this one: refused, never changed. */
export class NewerDatabaseError extends Error {
  constructor(shown: string, version: number, latest: number) {
    super(
      `the database ${shown} was written by a newer Meter (schema version ${version}; this ` +
        `Meter knows up to ${latest}): upgrade Meter, or restore a backup made by this version`,
    );
  }
}

/** The schema version a database says it has. */
export async function userVersion(db: Executor): Promise<number> {
  const result = await db.execute("PRAGMA user_version");
  return Number(result.rows[0]?.[0] ?? 0);
}

/** Whether `table` exists. */
export async function tableExists(db: Executor, table: string): Promise<boolean> {
  const found = await db.execute({
    sql: "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?",
    args: [table],
  });
  return found.rows.length > 0;
}

/** Whether `table` has `column`. */
export async function hasColumn(db: Executor, table: string, column: string): Promise<boolean> {
  const has = await db.execute({
    sql: "SELECT 1 FROM pragma_table_info(?) WHERE name = ?",
    args: [table, column],
  });
  return has.rows.length > 0;
}

/**
 * Refuses a database newer than `schema` knows, before anything else is done
 * to it. `shown` names it in the error.
 */
export async function refuseNewer(db: Executor, schema: VersionedSchema, shown: string) {
  const version = await userVersion(db);
  if (version > schema.migrations.length) {
    throw new NewerDatabaseError(shown, version, schema.migrations.length);
  }
}

/** Brings the database to the latest version of `schema` (see the module doc). */
export async function applyVersionedSchema(
  db: Client,
  schema: VersionedSchema,
  shown: string,
): Promise<void> {
  await refuseNewer(db, schema, shown);
  if (await isEmpty(db)) await createLatest(db, schema, shown);
  for (let from = await userVersion(db); from < schema.migrations.length; from++) {
    await runStep(db, schema, from, shown);
  }
  await db.batch(schema.statements.map((sql) => ({ sql, args: [] })), "write");
}

async function isEmpty(db: Executor): Promise<boolean> {
  const tables = await db.execute("SELECT count(*) FROM sqlite_schema");
  return Number(tables.rows[0][0]) === 0 && await userVersion(db) === 0;
}

/** A new database: the current schema, already at the latest version. */
async function createLatest(db: Client, schema: VersionedSchema, shown: string): Promise<void> {
  const tx = await db.transaction("write");
  try {
    // Another process may have made it since we looked.
    if (!await isEmpty(tx)) return;
    await tx.batch(schema.statements.map((sql) => ({ sql, args: [] })));
    await tx.execute(`PRAGMA user_version = ${schema.migrations.length}`);
    await tx.commit();
    log.debug("database created", {
      database: schema.database,
      file: shown,
      version: schema.migrations.length,
    });
  } finally {
    tx.close();
  }
}

/** Runs the step from version `from`, unless another process did it first. */
async function runStep(
  db: Client,
  schema: VersionedSchema,
  from: number,
  shown: string,
): Promise<void> {
  const step = schema.migrations[from];
  const tx = await db.transaction("write");
  try {
    if (await userVersion(tx) !== from) return;
    await step.run(tx);
    await tx.execute(`PRAGMA user_version = ${from + 1}`);
    await tx.commit();
  } catch (error) {
    throw new Error(
      `migrating the ${schema.database} database ${shown} from schema version ${from} ` +
        `(${step.name}) failed, and it was left at version ${from}: ${(error as Error).message}`,
    );
  } finally {
    tx.close();
  }
  log.info("database migrated", {
    database: schema.database,
    file: shown,
    from,
    to: from + 1,
    step: step.name,
  });
}
