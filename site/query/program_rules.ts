/**
 * The {@linkcode ProgramRules} of a database: for every b-tree in `main`
 * (table or index, by root page), whether a query may open it and which
 * positions of its records hold columns that no query view shows.
 *
 * A table's record positions are its columns in order, except for a
 * `WITHOUT ROWID` table, whose records are its primary key index's; an
 * index's are its own (`index_xinfo`). An index may be read only if every
 * column it holds, and every column its `WHERE` names, is one a view shows:
 * a seek or a scan on it would otherwise tell what a hidden column holds
 * without any `Column` instruction to catch.
 *
 * Reading the schema takes a few dozen small statements, so the rules are
 * kept until the schema changes (`PRAGMA schema_version`).
 *
 * @module
 */
import type { Btree, ProgramRules } from "./program_check.ts";
import { QUERY_VIEWS, visibleColumns } from "./query_views.ts";

/** Runs one statement of ours (never a query's) and returns its rows as arrays. */
export type ReadRows = (sql: string) => Promise<unknown[][]>;

interface SchemaEntry {
  type: "table" | "index";
  name: string;
  table: string;
  page: number;
  sql: string | null;
}

const quoted = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** The visible columns of each query table: the columns its views list, and their join keys. */
const VISIBLE = visibleColumns();

let cached: { version: number; rules: ProgramRules } | undefined;

/** The rules for the database `read` reads, in its current schema. */
export async function programRules(read: ReadRows): Promise<ProgramRules> {
  const [[version]] = await read("PRAGMA main.schema_version") as [[number]];
  if (cached?.version !== version) cached = { version, rules: await readRules(read) };
  return cached.rules;
}

async function readRules(read: ReadRows): Promise<ProgramRules> {
  const entries = (await read(
    "SELECT type, name, tbl_name, rootpage, sql FROM main.sqlite_schema WHERE rootpage > 0",
  )).map(([type, name, table, page, sql]) => ({ type, name, table, page, sql }) as SchemaEntry);
  const views = QUERY_VIEWS.map((view) => view.name);
  const outside = `queries may read only the views ${views.join(", ")}`;
  const closed = (name: string): Btree => ({
    name,
    table: name,
    closed: outside,
    hidden: new Map(),
  });
  const btrees = new Map<number, Btree>([[1, closed("sqlite_schema")]]);
  for (const entry of entries) {
    const visible = VISIBLE.get(entry.table);
    btrees.set(entry.page, visible ? await queryBtree(read, entry, visible) : closed(entry.table));
  }
  return { btrees, views };
}

/** A table or index of a query table: what its record positions hold. */
async function queryBtree(
  read: ReadRows,
  entry: SchemaEntry,
  visible: ReadonlySet<string>,
): Promise<Btree> {
  const columns = await recordColumns(read, entry);
  const hidden = new Map<number, string>();
  columns.forEach((column, position) => {
    if (column !== null && !visible.has(column)) hidden.set(position, column);
  });
  const btree = { name: entry.name, table: entry.table, hidden };
  if (entry.type === "table") return btree;
  const tableColumns = await read(`PRAGMA main.table_xinfo(${quoted(entry.table)})`);
  const hiddenOfTable = tableColumns.map((row) => row[1] as string)
    .filter((column) => !visible.has(column));
  return { ...btree, closed: indexRefusal(entry, [...hidden.values()], hiddenOfTable) };
}

/**
 * The column at each position of the b-tree's records: its name, `null` for
 * the rowid, `"<expression>"` for an expression.
 */
async function recordColumns(read: ReadRows, entry: SchemaEntry): Promise<(string | null)[]> {
  if (entry.type === "index") return await indexColumns(read, entry.name);
  const [[, , , , withoutRowid]] = await read(`PRAGMA main.table_list(${quoted(entry.name)})`);
  if (withoutRowid) {
    const indexes = await read(`PRAGMA main.index_list(${quoted(entry.name)})`);
    return await indexColumns(read, indexes.find((row) => row[3] === "pk")?.[1] as string);
  }
  const columns = await read(`PRAGMA main.table_xinfo(${quoted(entry.name)})`);
  return columns.map((row) => row[1] as string);
}

async function indexColumns(read: ReadRows, index: string): Promise<(string | null)[]> {
  const rows = await read(`PRAGMA main.index_xinfo(${quoted(index)})`);
  return rows.map(([, cid, name]) => cid === -2 ? "<expression>" : name as string | null);
}

/** Why an index of a query table may not be read, or `undefined`. */
function indexRefusal(
  entry: SchemaEntry,
  heldHidden: readonly string[],
  hiddenOfTable: readonly string[],
): string | undefined {
  if (heldHidden.length > 0) {
    return `index ${entry.name} holds ${heldHidden[0]}, which no view shows`;
  }
  // A partial index's WHERE tells, row by row, what the columns it names hold.
  const where = /\bWHERE\b([\s\S]*)$/i.exec(entry.sql ?? "")?.[1] ?? "";
  const words = new Set(where.toLowerCase().match(/[a-z_][a-z0-9_]*/g) ?? []);
  const named = hiddenOfTable.find((column) => words.has(column.toLowerCase()));
  return named ? `index ${entry.name} is limited by ${named}, which no view shows` : undefined;
}
