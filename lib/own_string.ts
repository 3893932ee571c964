/**
 * A copy of a string that shares no memory with the text it was cut from.
 *
 * V8 makes a `slice`, `trim` or `split` part of 13 characters or more a view
 * into its parent string, which keeps the whole parent alive as long as the
 * part lives. A package's version cut from dpkg's `status` file and kept in
 * the inventory kept the whole 1.4 MB file in the agent's heap, once for the
 * inventory and once for the package-version index; a program path cut from
 * a package's file list kept that list. Values kept long after their file was
 * parsed go through this.
 *
 * @module
 */

/** `text` as a string of its own (a round trip through JSON builds a new one). */
export function ownString(text: string): string {
  return text.length < 13 ? text : JSON.parse(JSON.stringify(text));
}
