/**
 * File-name globs as metering rules write them: `*` matches any run of
 * characters, `?` any one character, and everything else stands for itself
 * (there are no character classes or escapes, so a rule such as `a[1].exe`
 * means exactly that name).
 *
 * @example
 * ```ts
 * import { compileGlob } from "./glob.ts";
 * const matches = compileGlob("code*", { caseInsensitive: true });
 * matches("Code-Insiders"); // true
 * ```
 *
 * @module
 */

export interface GlobOptions {
  /** Compare without regard to letter case (file names on Windows and macOS, rule versions). */
  caseInsensitive?: boolean;
}

/** Tests one string against a compiled glob. */
export type GlobMatcher = (text: string) => boolean;

/** True when the glob has a wildcard; otherwise it names exactly one string. */
export function hasWildcard(glob: string): boolean {
  return glob.includes("*") || glob.includes("?");
}

/** The anchored regular expression a glob stands for. */
export function globToRegExp(glob: string, options: GlobOptions = {}): RegExp {
  let source = "";
  for (const char of glob) {
    if (char === "*") source += "[\\s\\S]*";
    else if (char === "?") source += "[\\s\\S]";
    else source += char.replace(/[\\^$.|+(){}[\]/]/g, "\\$&");
  }
  return new RegExp(`^${source}$`, options.caseInsensitive ? "iu" : "u");
}

/**
 * Compiles a glob once into a matcher. Globs without wildcards compare
 * strings directly and `*` matches without testing, the two commonest rules.
 */
export function compileGlob(glob: string, options: GlobOptions = {}): GlobMatcher {
  if (/^\*+$/.test(glob)) return () => true;
  if (!hasWildcard(glob)) {
    if (!options.caseInsensitive) return (text) => text === glob;
    const wanted = glob.toLowerCase();
    return (text) => text.toLowerCase() === wanted;
  }
  const regExp = globToRegExp(glob, options);
  return (text) => regExp.test(text);
}
