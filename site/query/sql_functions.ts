/**
 * The SQL functions a query may call: SQLite's core scalar, aggregate,
 * window, date and time, JSON and math functions, by name.
 *
 * The libSQL build registers more than SQLite's core: `readfile()` and
 * `writefile()` reach the file system, `load_extension()` loads native code,
 * `sha3_query()` runs SQL of its own, and the encryption, vector, full-text
 * and geometry modules add dozens more. None of them is needed to ask
 * questions of usage tables, and each is a way out of them, so a query may
 * call only what is listed here; `program_check.ts` finds every call in the
 * compiled program and refuses anything else, naming it. Functions that only
 * allocate (`zeroblob()`, `randomblob()`) or tell about the connection or the
 * build (`changes()`, `sqlite_version()`) are left out too.
 *
 * Only names this build has are listed, so the list documents what works; a
 * test checks both that, and that every other registered function is refused.
 *
 * @module
 */

/** The allowed functions by kind, in the order the documentation lists them. */
export const SQL_FUNCTIONS: Readonly<Record<string, readonly string[]>> = {
  "core scalar": [
    "abs",
    "char",
    "coalesce",
    "concat",
    "concat_ws",
    "format",
    "glob",
    "hex",
    "ifnull",
    "iif",
    "instr",
    "length",
    "like",
    "likelihood",
    "likely",
    "lower",
    "ltrim",
    "max",
    "min",
    "nullif",
    "octet_length",
    "printf",
    "quote",
    "random",
    "replace",
    "round",
    "rtrim",
    "sign",
    "substr",
    "substring",
    "trim",
    "typeof",
    "unhex",
    "unicode",
    "unlikely",
    "upper",
  ],
  aggregate: [
    "avg",
    "count",
    "group_concat",
    "json_group_array",
    "json_group_object",
    "max",
    "min",
    "string_agg",
    "sum",
    "total",
  ],
  window: [
    "cume_dist",
    "dense_rank",
    "first_value",
    "lag",
    "last_value",
    "lead",
    "nth_value",
    "ntile",
    "percent_rank",
    "rank",
    "row_number",
  ],
  "date and time": [
    "current_date",
    "current_time",
    "current_timestamp",
    "date",
    "datetime",
    "julianday",
    "strftime",
    "time",
    "timediff",
    "unixepoch",
  ],
  JSON: [
    "->",
    "->>",
    "json",
    "json_array",
    "json_array_length",
    "json_error_position",
    "json_extract",
    "json_insert",
    "json_object",
    "json_patch",
    "json_quote",
    "json_remove",
    "json_replace",
    "json_set",
    "json_type",
    "json_valid",
  ],
  math: [
    "acos",
    "acosh",
    "asin",
    "asinh",
    "atan",
    "atan2",
    "atanh",
    "ceil",
    "ceiling",
    "cos",
    "cosh",
    "degrees",
    "exp",
    "floor",
    "ln",
    "log",
    "log10",
    "pi",
    "power",
    "radians",
    "sin",
    "sinh",
    "sqrt",
    "tan",
    "tanh",
  ],
};

/** Every allowed name, lower-cased as SQLite reports them. */
export const ALLOWED_FUNCTIONS: ReadonlySet<string> = new Set(Object.values(SQL_FUNCTIONS).flat());

/**
 * The function's name in an `EXPLAIN` row's P4, which reads `name(nArg)`
 * for `Function`, `PureFunc` and the `Agg*` opcodes.
 */
export function functionNameOf(p4: unknown): string {
  const text = String(p4);
  return /^(.+)\(-?\d+\)$/.exec(text)?.[1] ?? text;
}

/** The allowed functions as Markdown, one line per kind, for the API description. */
export function sqlFunctionsMarkdown(): string {
  return Object.entries(SQL_FUNCTIONS)
    .map(([kind, names]) => `- ${kind}: ${names.map((name) => `\`${name}\``).join(", ")}`)
    .join("\n");
}
