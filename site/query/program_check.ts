/**
 * What a query really does, read from its compiled program (`EXPLAIN`):
 * every b-tree it opens, by root page, mapped to its table through
 * `sqlite_schema`. A query passes only if it opens nothing but the tables
 * behind the query views (and their indexes) for reading, and writes nothing
 * but the connection's own result table in `temp`. Whatever the text looks
 * like (subqueries, CTEs, views of views), the program cannot hide a table
 * it reads.
 *
 * Virtual tables (`pragma_table_info`, `json_each`, ...) are refused: their
 * program does not say what they read.
 *
 * @module
 */
import { QueryRefusal } from "./statement_text.ts";

/** One row of `EXPLAIN`: addr, opcode, p1, p2, p3, p4, p5, comment. */
export type ProgramRow = readonly unknown[];

export interface ProgramRules {
  /** Root pages in `main` that may be read: the query tables and their indexes. */
  readable: ReadonlySet<number>;
  /** Every root page in `main` with its table's name, to say what was refused. */
  names: ReadonlyMap<number, string>;
  /** Root page of the result table in `temp` that may be written, if any. */
  writable?: number;
  /** The views to name when refusing. */
  views: readonly string[];
}

const MAIN = 0;
const TEMP = 1;
/** `OpenRead`/`OpenWrite` P5 flag: P2 is a register holding the root page, not the page. */
const P2_IS_REGISTER = 0x10;

const OPENS = new Set(["OpenRead", "ReopenIdx", "OpenWrite"]);
/** Opcodes that change a schema or a file, or run SQL of their own. */
const NEVER = new Set([
  "ParseSchema",
  "SqlExec",
  "CreateBtree",
  "Destroy",
  "Clear",
  "DropTable",
  "DropIndex",
  "DropTrigger",
  "Vacuum",
  "IntegrityCk",
  "JournalMode",
  "Checkpoint",
  "SetCookie",
  "LoadAnalysis",
]);

function tableName(rules: ProgramRules, db: number, page: number): string {
  if (db !== MAIN) return db === TEMP ? "a temp table" : "an attached database";
  return rules.names.get(page) ?? `root page ${page}`;
}

/** The reason `row` may not run, or `undefined`. */
function refusal(row: ProgramRow, rules: ProgramRules): string | undefined {
  const [, opcode, p1, p2, p3, , p5] = row as [
    number,
    string,
    number,
    number,
    number,
    unknown,
    number,
  ];
  const only = `queries may read only the views ${rules.views.join(", ")}`;
  if (/^V[A-Z]/.test(opcode)) {
    return `virtual tables and table-valued functions (json_each, pragma_...) are not available; ${only}`;
  }
  if (NEVER.has(opcode)) return `${opcode} is not allowed in a read-only query`;
  if (opcode === "Transaction") {
    if (p1 === MAIN && p2 !== 0) return "the statement writes to the site's database";
    if (p1 !== MAIN && p1 !== TEMP) return "the statement uses an attached database";
    return undefined;
  }
  if (!OPENS.has(opcode)) return undefined;
  if ((p5 & P2_IS_REGISTER) !== 0) return `the statement opens a table it computes (${opcode})`;
  if (opcode === "OpenWrite") {
    return p3 === TEMP && p2 === rules.writable
      ? undefined
      : `the statement writes to ${tableName(rules, p3, p2)}`;
  }
  if (p3 === MAIN && rules.readable.has(p2)) return undefined;
  if (p3 === TEMP && p2 === rules.writable) return undefined;
  return `the statement reads ${tableName(rules, p3, p2)}; ${only}`;
}

/** Throws a {@linkcode QueryRefusal} naming the first thing the program may not do. */
export function checkProgram(program: readonly ProgramRow[], rules: ProgramRules): void {
  for (const row of program) {
    const reason = refusal(row, rules);
    if (reason) throw new QueryRefusal(reason, "not_allowed");
  }
}
