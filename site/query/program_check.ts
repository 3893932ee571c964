/**
 * What a query really does, read from its compiled program (`EXPLAIN`):
 * every b-tree it opens (by root page), every column it reads from one, and
 * every function it calls. A query passes only if
 *
 * - it opens nothing but the tables behind the query views and their
 *   indexes for reading, and writes nothing but the connection's own result
 *   table in `temp`;
 * - every column it reads from those is one a view shows (so `main.clients`
 *   named directly still cannot show `enrolled_with`);
 * - every function it calls is on the allowlist (`sql_functions.ts`).
 *
 * Whatever the text looks like (subqueries, CTEs, views of views, quoted or
 * odd-cased names), the program cannot hide a table, column or function it
 * uses. Virtual tables (`pragma_table_info`, `json_each`, ...) are refused:
 * their program does not say what they read.
 *
 * There is no authorizer at prepare time as well: libSQL 0.5's authorizer,
 * once set, denies every function call (`select abs(1)` fails with "not
 * authorized to use function: abs"), so it cannot tell allowed functions
 * from the others; the compiled program can.
 *
 * @module
 */
import { ALLOWED_FUNCTIONS, functionNameOf } from "./sql_functions.ts";
import { QueryRefusal } from "./statement_text.ts";

/** One row of `EXPLAIN`: addr, opcode, p1, p2, p3, p4, p5, comment. */
export type ProgramRow = readonly unknown[];

/** A table or index of the site's database, as queries may use it. */
export interface Btree {
  /** Its name, to say what was refused. */
  name: string;
  /** Why it may not be opened at all; `undefined` when it may be read. */
  closed?: string;
  /** The table columns no view shows, by their position in this b-tree's records. */
  hidden: ReadonlyMap<number, string>;
  /** The table it belongs to. */
  table: string;
}

export interface ProgramRules {
  /** Every b-tree in `main`, by root page. */
  btrees: ReadonlyMap<number, Btree>;
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
/** Opcodes that carry a function in P4. */
const CALLS = new Set([
  "Function",
  "PureFunc",
  "AggStep",
  "AggStep1",
  "AggInverse",
  "AggValue",
  "AggFinal",
]);
/** Opcodes that read a whole record, or where it lies in the file, whatever its columns. */
const WHOLE_RECORD = new Set(["RowData", "RowCell", "Offset"]);
/** Opcodes that change a schema or a file, or run SQL or a trigger program of their own. */
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
  "Program",
]);

interface Op {
  opcode: string;
  p1: number;
  p2: number;
  p3: number;
  p4: unknown;
  p5: number;
}

function op(row: ProgramRow): Op {
  const [, opcode, p1, p2, p3, p4, p5] = row as [
    number,
    string,
    number,
    number,
    number,
    unknown,
    number,
  ];
  return { opcode, p1, p2, p3, p4, p5 };
}

function only(rules: ProgramRules): string {
  return `queries may read only the views ${rules.views.join(", ")}`;
}

function tableName(rules: ProgramRules, db: number, page: number): string {
  if (db !== MAIN) return db === TEMP ? "a temp table" : "an attached database";
  return rules.btrees.get(page)?.name ?? `root page ${page}`;
}

/** Why opening a b-tree is refused, or `undefined`. */
function openRefusal({ opcode, p2, p3, p5 }: Op, rules: ProgramRules): string | undefined {
  if ((p5 & P2_IS_REGISTER) !== 0) return `the statement opens a table it computes (${opcode})`;
  if (p3 === TEMP && p2 === rules.writable) return undefined;
  if (opcode === "OpenWrite") return `the statement writes to ${tableName(rules, p3, p2)}`;
  const btree = p3 === MAIN ? rules.btrees.get(p2) : undefined;
  if (btree && btree.closed === undefined) return undefined;
  return `the statement reads ${tableName(rules, p3, p2)}; ${btree?.closed ?? only(rules)}`;
}

/** The reason one instruction may not run, or `undefined`. */
function refusal(instruction: Op, rules: ProgramRules): string | undefined {
  const { opcode, p1, p2, p4 } = instruction;
  if (/^V[A-Z]/.test(opcode)) {
    return `virtual tables and table-valued functions (json_each, pragma_...) are not available; ${
      only(rules)
    }`;
  }
  if (NEVER.has(opcode)) return `${opcode} is not allowed in a read-only query`;
  if (CALLS.has(opcode)) {
    const name = functionNameOf(p4);
    if (ALLOWED_FUNCTIONS.has(name.toLowerCase())) return undefined;
    return `the function ${name}() is not allowed; queries may call only the core scalar, ` +
      "aggregate, window, date and time, JSON and math functions the API description lists";
  }
  if (opcode === "Transaction") {
    if (p1 === MAIN && p2 !== 0) return "the statement writes to the site's database";
    if (p1 !== MAIN && p1 !== TEMP) return "the statement uses an attached database";
    return undefined;
  }
  if (OPENS.has(opcode)) return openRefusal(instruction, rules);
  return undefined;
}

/** The b-trees of `main` each cursor of the program is opened on. */
function cursorsOf(program: readonly Op[], rules: ProgramRules): Map<number, Btree[]> {
  const cursors = new Map<number, Btree[]>();
  for (const { opcode, p1, p2, p3 } of program) {
    const btree = OPENS.has(opcode) && p3 === MAIN ? rules.btrees.get(p2) : undefined;
    if (btree) cursors.set(p1, [...cursors.get(p1) ?? [], btree]);
  }
  return cursors;
}

/** Why reading through a cursor is refused: a hidden column, or a whole record. */
function readRefusal(
  { opcode, p1, p2 }: Op,
  cursors: Map<number, Btree[]>,
  rules: ProgramRules,
): string | undefined {
  for (const btree of cursors.get(p1) ?? []) {
    if (WHOLE_RECORD.has(opcode)) {
      return `the statement reads whole rows of ${btree.table} (${opcode}); ${only(rules)}`;
    }
    const column = btree.hidden.get(p2);
    if (column !== undefined) {
      return `the statement reads ${btree.table}.${column}, which no view shows; ${only(rules)}`;
    }
  }
  return undefined;
}

/** Throws a {@linkcode QueryRefusal} naming the first thing the program may not do. */
export function checkProgram(program: readonly ProgramRow[], rules: ProgramRules): void {
  const ops = program.map(op);
  for (const instruction of ops) {
    const reason = refusal(instruction, rules);
    if (reason) throw new QueryRefusal(reason, "not_allowed");
  }
  const cursors = cursorsOf(ops, rules);
  for (const instruction of ops) {
    if (instruction.opcode !== "Column" && !WHOLE_RECORD.has(instruction.opcode)) continue;
    const reason = readRefusal(instruction, cursors, rules);
    if (reason) throw new QueryRefusal(reason, "not_allowed");
  }
}
