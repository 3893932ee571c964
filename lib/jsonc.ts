/**
 * JSON with comments, as configuration files are written: `//` to the end
 * of a line and `/* ... *\/` anywhere outside a string, so a packaged
 * `/etc/meter/agent.json` can explain each key beside it. Everything else is
 * plain JSON (no trailing commas): the comments are blanked, not removed,
 * so `JSON.parse`'s error positions still point into the file as written.
 *
 * @example
 * ```ts
 * import { parseJsonc } from "./jsonc.ts";
 * parseJsonc('{ "port": 8080 // the HTTP port\n}'); // { port: 8080 }
 * ```
 *
 * @module
 */

/** Parses `text`, comments allowed; throws `SyntaxError` as `JSON.parse` does. */
export function parseJsonc(text: string): unknown {
  return JSON.parse(blankComments(text));
}

/** `text` with every comment outside strings replaced by spaces (newlines kept). */
export function blankComments(text: string): string {
  let out = "";
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      const end = stringEnd(text, i);
      out += text.slice(i, end);
      i = end;
    } else if (c === "/" && text[i + 1] === "/") {
      const end = text.indexOf("\n", i);
      const stop = end < 0 ? text.length : end;
      out += " ".repeat(stop - i);
      i = stop;
    } else if (c === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2);
      if (end < 0) throw new SyntaxError(`unterminated /* comment at position ${i}`);
      out += text.slice(i, end + 2).replace(/[^\n]/g, " ");
      i = end + 2;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** The index just past the string starting at `start` (or the text's end if unterminated). */
function stringEnd(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length) {
    if (text[i] === "\\") i += 2;
    else if (text[i] === '"') return i + 1;
    else i++;
  }
  return text.length;
}
