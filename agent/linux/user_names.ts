/**
 * User names for uids, as sessions record them.
 *
 * Local accounts come from `/etc/passwd`, parsed whole and parsed again when
 * its mtime changes (so a user added while the agent runs is found). A uid
 * that is not there may belong to a directory service (LDAP, sssd), which only
 * the C library's name service switch knows; Deno has no `getpwuid`, so such a
 * uid is asked of `getent passwd <uid>` once and the answer, a miss included,
 * is kept until `/etc/passwd` changes. A uid without a name becomes `uid:<n>`.
 *
 * @module
 */
import { readTextOrUndefined } from "./read_text.ts";

export interface UserNamesOptions {
  /** The passwd file; `/etc/passwd` unless a test points elsewhere. */
  passwdPath?: string;
  /** The `getent` program, or `null` to never run it. */
  getent?: string | null;
}

export class UserNames {
  readonly #passwdPath: string;
  readonly #getent: string | null;
  #mtime: number | null | undefined = undefined;
  #local = new Map<number, string>();
  // Promises, so concurrent lookups of one uid run getent once.
  #looked = new Map<number, Promise<string | null>>();

  constructor(options: UserNamesOptions = {}) {
    this.#passwdPath = options.passwdPath ?? "/etc/passwd";
    this.#getent = options.getent === undefined ? "getent" : options.getent;
  }

  /** The user name of `uid`, or `uid:<n>` when no name is known. */
  async name(uid: number): Promise<string> {
    this.#refresh();
    const local = this.#local.get(uid);
    if (local !== undefined) return local;
    let lookup = this.#looked.get(uid);
    if (!lookup) {
      lookup = this.#getentName(uid);
      this.#looked.set(uid, lookup);
    }
    return (await lookup) ?? `uid:${uid}`;
  }

  /** Parses the passwd file again if its mtime changed since the last parse. */
  #refresh(): void {
    let mtime: number | null;
    try {
      mtime = Deno.statSync(this.#passwdPath).mtime?.getTime() ?? null;
    } catch {
      mtime = null;
    }
    if (mtime === this.#mtime) return;
    this.#mtime = mtime;
    this.#local = mtime === null
      ? new Map()
      : parsePasswd(readTextOrUndefined(this.#passwdPath) ?? "");
    this.#looked.clear();
  }

  async #getentName(uid: number): Promise<string | null> {
    if (this.#getent === null) return null;
    try {
      const output = await new Deno.Command(this.#getent, {
        args: ["passwd", String(uid)],
        stdin: "null",
        stdout: "piped",
        stderr: "null",
      }).output();
      if (!output.success) return null;
      return parsePasswd(new TextDecoder().decode(output.stdout)).get(uid) ?? null;
    } catch {
      // Not installed, or the agent runs without permission to start it.
      return null;
    }
  }
}

/** uid → name from passwd lines; the first line of a uid wins, as with `getpwuid`. */
export function parsePasswd(text: string): Map<number, string> {
  const names = new Map<number, string>();
  for (const line of text.split("\n")) {
    const fields = line.split(":");
    if (fields.length < 3 || fields[0] === "" || line.startsWith("#")) continue;
    const uid = Number(fields[2]);
    if (Number.isInteger(uid) && fields[2] !== "" && !names.has(uid)) names.set(uid, fields[0]);
  }
  return names;
}
