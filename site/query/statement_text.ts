/**
 * The text of a query, read as SQLite reads it (strings, quoted identifiers
 * and comments included) to tell whether it is one statement, where that
 * statement ends, and which word it starts with.
 *
 * This is the first and friendliest check, so that a second statement or an
 * `UPDATE` gets a clear 400; it is not what keeps queries read-only. That is
 * done by the connection (read-only file), by running the statement only as
 * the inside of `INSERT INTO temp... SELECT * FROM (...)`, which SQLite
 * parses only when it is a query, and by checking its compiled program
 * (`program_check.ts`).
 *
 * @module
 */

/** Why a text is not one read-only query, said for the person who sent it. */
export class QueryRefusal extends Error {
  constructor(message: string, readonly code = "not_read_only") {
    super(message);
    this.name = "QueryRefusal";
  }
}

const ONE_QUERY = "send one read-only SELECT (or WITH ... SELECT, or VALUES) statement";
const CLOSERS: Record<string, string> = { "'": "'", '"': '"', "`": "`", "[": "]" };

/** The index just past a quoted run or comment starting at `i`, or `i` if none starts there. */
function skipQuotedOrComment(sql: string, i: number): number {
  const ch = sql[i];
  if (ch === "-" && sql[i + 1] === "-") {
    const end = sql.indexOf("\n", i + 2);
    return end < 0 ? sql.length : end + 1;
  }
  if (ch === "/" && sql[i + 1] === "*") {
    const end = sql.indexOf("*/", i + 2);
    return end < 0 ? sql.length : end + 2;
  }
  const closer = CLOSERS[ch];
  if (!closer) return i;
  let j = i + 1;
  while (j < sql.length) {
    if (sql[j] === closer) {
      // A doubled quote is the quote character itself (not for `[...]`).
      if (closer !== "]" && sql[j + 1] === closer) {
        j += 2;
        continue;
      }
      return j + 1;
    }
    j++;
  }
  return sql.length;
}

const isComment = (sql: string, i: number) =>
  (sql[i] === "-" && sql[i + 1] === "-") || (sql[i] === "/" && sql[i + 1] === "*");

/** The index of the first top-level `;`, or the length of the text. */
function statementEnd(sql: string): number {
  let i = 0;
  while (i < sql.length) {
    if (sql[i] === ";") return i;
    const next = skipQuotedOrComment(sql, i);
    i = next > i ? next : i + 1;
  }
  return sql.length;
}

/** True when `text` holds only white space, comments and semicolons. */
function blank(text: string): boolean {
  let i = 0;
  while (i < text.length) {
    if (/\s|;/.test(text[i])) i++;
    else if (isComment(text, i)) i = skipQuotedOrComment(text, i);
    else return false;
  }
  return true;
}

/** The first word of `text` after white space and comments, upper-cased. */
function firstWord(text: string): string {
  let i = 0;
  while (i < text.length) {
    if (/\s/.test(text[i])) i++;
    else if (isComment(text, i)) i = skipQuotedOrComment(text, i);
    else break;
  }
  return /^[A-Za-z_]+/.exec(text.slice(i))?.[0].toUpperCase() ?? text.slice(i, i + 1);
}

/**
 * The one statement in `sql`, without its closing semicolon; a
 * {@linkcode QueryRefusal} when there is none, more than one, or it is not
 * a query.
 */
export function singleQuery(sql: string): string {
  const end = statementEnd(sql);
  const body = sql.slice(0, end);
  if (blank(body)) throw new QueryRefusal(`the text holds no statement; ${ONE_QUERY}`);
  if (!blank(sql.slice(end))) {
    throw new QueryRefusal(`the text holds more than one statement; ${ONE_QUERY}`);
  }
  const word = firstWord(body);
  if (!["SELECT", "WITH", "VALUES"].includes(word)) {
    throw new QueryRefusal(`${word} statements are not allowed; ${ONE_QUERY}`);
  }
  return body;
}
