/**
 * Many rows as one statement: the rows travel as one JSON array parameter
 * (`[[a, b, ...], ...]`) and `json_each` spreads them, instead of thousands
 * of bound values (binding each value from JavaScript cost more still).
 *
 * Each row's JSON text is first put in a materialised table, `json_rows`,
 * and its fields taken from there ({@linkcode jsonField}): taking
 * `value ->> i` straight from `json_each` renders and parses the row again
 * for every field, which was a third of the time of inserting a day of a
 * large fleet's daily summaries.
 *
 * @module
 */

/** The table of rows that {@linkcode withJsonRows} makes; its one column is `v`. */
export const JSON_ROWS = "json_rows";

/** `WITH json_rows(v) AS MATERIALIZED (...)`: the rows of the JSON array `parameter`. */
export function withJsonRows(parameter = "?"): string {
  return `WITH ${JSON_ROWS}(v) AS MATERIALIZED (SELECT value FROM json_each(${parameter}))`;
}

/** Field `index` of a row of `json_rows`, as an SQL expression. */
export function jsonField(index: number): string {
  return `v ->> ${index}`;
}

/** The first `count` fields of a row of `json_rows`, in order, as a select list. */
export function jsonFields(count: number): string {
  return Array.from({ length: count }, (_, i) => jsonField(i)).join(", ");
}
