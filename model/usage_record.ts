/**
 * The records of a usage document, `usage/<client>/<day>`.
 *
 * Each record is one CBOR-encoded tuple under a short key, the layout that
 * keeps a day of a busy client small on the wire and fast to load:
 *
 * - **program** `p<n>` → `[ruleId, user, exe, argv0, version, language]`:
 *   what ran, as whom. Sessions of the same program share it, so its strings
 *   travel once. Agents before the language was recorded wrote five
 *   elements; such a program's language is `null`.
 * - **session** `<n>` (decimal) → `[program n, pid, startOffsetMs,
 *   durationMs | null, flags]`: one run. The start is counted from 00:00 UTC
 *   of the document's day; a null duration means it is still running.
 *
 * Flags: 1 start not captured (running when the agent started), 2 end not
 * captured (the agent stopped before it did), 4 remote (a remote login).
 *
 * @module
 */
import { encode } from "cbor-x";
import { z } from "zod";
import { decodeRecord } from "./cbor_record.ts";
import { DAY_MS, dayStart } from "./doc_id.ts";
import { ruleIdSchema } from "./rule.ts";

export const FLAG_START_NOT_CAPTURED = 1;
export const FLAG_END_NOT_CAPTURED = 2;
export const FLAG_REMOTE = 4;

export interface UsageProgram {
  ruleId: string;
  user: string;
  exe: string;
  argv0: string;
  version: string | null;
  /**
   * The language the rule matched on: the process's locale language on
   * Linux (`de`), the program's version-resource language on Windows
   * (`de-DE`); `null` (or left out) when unknown.
   */
  language?: string | null;
}

/** One usage session as agents record it and sites store it. */
export interface UsageSession extends UsageProgram {
  /** `<day>/<n>`: unique per client. */
  id: string;
  pid: number;
  start: number;
  /** `null` while the program still runs. */
  end: number | null;
  startNotCaptured: boolean;
  endNotCaptured: boolean;
  remote: boolean;
}

/** The longest strings a record may hold; agents cut longer ones to fit. */
const MAX_LENGTH = { ruleId: 64, user: 256, exe: 4096, argv0: 4096, version: 256 } as const;
/** A language tag or Windows-style name: letters, digits, `-` and `_`, 35 at most (BCP 47's limit). */
const LANGUAGE = /^[A-Za-z0-9_-]{1,35}$/;
const MAX_DURATION_MS = 10 * 365 * DAY_MS;
const MAX_PID = 2 ** 32;

const text = (max: number) => z.string().max(max);
/** A user name as a system gives it (or `uid:<n>`): never empty, never a control character. */
const userName = text(MAX_LENGTH.user).min(1, "the user is empty").regex(
  // deno-lint-ignore no-control-regex
  /^[^\u0000-\u001f\u007f]*$/,
  "a user name has no control characters",
);
const programTuple = z.tuple([
  ruleIdSchema,
  userName,
  text(MAX_LENGTH.exe),
  text(MAX_LENGTH.argv0),
  text(MAX_LENGTH.version).nullable(),
  z.string().regex(LANGUAGE, "a language is a tag such as de-DE").nullable().optional(),
]);
const sessionTuple = z.tuple([
  z.number().int().min(0).max(1_000_000),
  z.number().int().min(0).max(MAX_PID),
  z.number().int().min(0).max(DAY_MS - 1),
  z.number().int().min(0).max(MAX_DURATION_MS).nullable(),
  z.number().int().min(0).max(7),
]);

/**
 * The session cut to what a record may hold, so that a site never refuses
 * what an agent wrote: over-long strings are shortened (argv[0] of a browser
 * can be a whole command line), and an end before the start (the clock
 * stepped back) becomes the start.
 */
export function fitSession(s: UsageSession): UsageSession {
  const cut = (value: string, max: number) => value.length > max ? value.slice(0, max) : value;
  return {
    ...s,
    ruleId: cut(s.ruleId, MAX_LENGTH.ruleId),
    user: cut(s.user, MAX_LENGTH.user),
    exe: cut(s.exe, MAX_LENGTH.exe),
    argv0: cut(s.argv0, MAX_LENGTH.argv0),
    version: s.version === null ? null : cut(s.version, MAX_LENGTH.version),
    // A language the site would refuse is dropped, not sent.
    language: s.language && LANGUAGE.test(s.language) ? s.language : null,
    pid: Math.min(Math.max(0, s.pid), MAX_PID),
    end: s.end === null ? null : Math.min(Math.max(s.end, s.start), s.start + MAX_DURATION_MS),
  };
}

export const isProgramKey = (key: string) => /^p\d+$/.test(key);
export const isSessionKey = (key: string) => /^\d+$/.test(key);
export const programKey = (n: number) => `p${n}`;
export const sessionKey = (n: number) => String(n);

export function encodeProgram(p: UsageProgram): Uint8Array {
  // Five elements when there is no language: a site from before the language reads them.
  const program = [p.ruleId, p.user, p.exe, p.argv0, p.version];
  return encode(p.language ? [...program, p.language] : program);
}

/** Decodes a program record; throws with a message naming the key. */
export function decodeProgram(key: string, value: unknown): UsageProgram {
  const [ruleId, user, exe, argv0, version, language] = decodeRecord(
    `program ${key}`,
    value,
    programTuple,
  );
  return { ruleId, user, exe, argv0, version, language: language ?? null };
}

export function encodeSession(day: string, s: UsageSession, program: number): Uint8Array {
  const offset = s.start - dayStart(day);
  const flags = (s.startNotCaptured ? FLAG_START_NOT_CAPTURED : 0) |
    (s.endNotCaptured ? FLAG_END_NOT_CAPTURED : 0) | (s.remote ? FLAG_REMOTE : 0);
  return encode([program, s.pid, offset, s.end === null ? null : s.end - s.start, flags]);
}

/**
 * Decodes a session record, resolving its program with `programOf`; throws
 * with a message naming the key when the record is malformed.
 */
export function decodeSession(
  day: string,
  key: string,
  value: unknown,
  programOf: (n: number) => UsageProgram | undefined,
): UsageSession {
  const [program, pid, offset, duration, flags] = decodeRecord(
    `session ${key}`,
    value,
    sessionTuple,
  );
  const p = programOf(program);
  if (!p) throw new Error(`session ${key} names program p${program}, which the document lacks`);
  const start = dayStart(day) + offset;
  return {
    id: `${day}/${key}`,
    ...p,
    pid,
    start,
    end: duration === null ? null : start + duration,
    startNotCaptured: (flags & FLAG_START_NOT_CAPTURED) !== 0,
    endNotCaptured: (flags & FLAG_END_NOT_CAPTURED) !== 0,
    remote: (flags & FLAG_REMOTE) !== 0,
  };
}
