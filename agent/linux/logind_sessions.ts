/**
 * Whether a process runs in a remote login session, as systemd-logind
 * recorded it: ssh, xrdp, remote X and VNC logins that go through PAM with
 * `pam_systemd` are sessions logind marks `REMOTE=1`.
 *
 * logind writes one state file per session, `/run/systemd/sessions/<id>`,
 * `KEY=value` lines (`session_save()` in systemd's
 * `src/login/logind-session.c`): `UID=`, `USER=`, `ACTIVE=`, `STATE=`,
 * `REMOTE=` (`0` or `1`), then `TYPE=`, `CLASS=`, `SCOPE=`, `REMOTE_HOST=`,
 * `SERVICE=`, `LEADER=`, `AUDIT=` and others when known. libsystemd's own
 * `sd_session_is_remote()` reads `REMOTE` from this file, so reading it is
 * what the public API does; the file's first line says "Do not parse", so a
 * file that does not say `REMOTE` is not trusted either way.
 *
 * Which session a process is in, two ways, tried in this order:
 *
 * 1. **The audit session**, `/proc/PID/sessionid` (4294967295 means none).
 *    `create_session()` in `src/login/logind-dbus.c` names a session after
 *    the leader's audit session id when it has one ("Keep our session IDs
 *    and the audit session IDs in sync"), else `c1`, `c2`, ... The audit
 *    session is inherited across fork and exec and changes only when
 *    `/proc/self/loginuid` is written (`pam_loginuid`, which needs
 *    `CAP_AUDIT_CONTROL`), so it follows a program a user moved out of the
 *    session's cgroup (`systemd-run --user`, a daemonised helper).
 * 2. **The cgroup**, a `session-<id>.scope` unit in `/proc/PID/cgroup`, the
 *    way `sd_pid_get_session()` finds it (`cg_path_get_session()` in
 *    `src/basic/cgroup-util.c`). This finds `c<n>` sessions, made where the
 *    kernel has no audit support or the leader had no audit session.
 *
 * The first way that names a session with a state file saying `REMOTE`
 * decides. When neither does (no logind, a process outside any session),
 * the answer is `undefined` and the caller keeps its own signals.
 *
 * Session files are cached briefly by id: one is read at most once per
 * `ttlMs` however many processes share it, and the cache is bounded.
 *
 * @module
 */
import { readTextOrUndefined } from "./read_text.ts";

/** `/proc/PID/sessionid` when the process has no audit session (`(u32)-1`). */
export const NO_AUDIT_SESSION = "4294967295";
const DEFAULT_TTL_MS = 5_000;
const DEFAULT_MAX_ENTRIES = 256;

export interface LogindSessionsOptions {
  /** Where logind keeps its session files; `/run/systemd/sessions` unless a test points elsewhere. */
  sessionsDir?: string;
  /** How long a session file's answer is kept (ms). */
  ttlMs?: number;
  /** At most this many sessions are kept; the oldest are dropped first. */
  maxEntries?: number;
}

interface Cached {
  at: number;
  remote: boolean | undefined;
}

export class LogindSessions {
  readonly #dir: string;
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #cache = new Map<string, Cached>();

  constructor(options: LogindSessionsOptions = {}) {
    this.#dir = options.sessionsDir ?? "/run/systemd/sessions";
    this.#ttlMs = options.ttlMs ?? DEFAULT_TTL_MS;
    this.#maxEntries = Math.max(1, options.maxEntries ?? DEFAULT_MAX_ENTRIES);
  }

  /**
   * Whether a process is in a session logind recorded as remote, from its
   * `/proc/PID/sessionid` and `cgroup`; `undefined` when logind says
   * nothing about it.
   */
  remote(sessionid: string | undefined, cgroup: string | undefined): boolean | undefined {
    const audit = parseAuditSession(sessionid);
    const byAudit = audit === undefined ? undefined : this.sessionRemote(audit);
    if (byAudit !== undefined) return byAudit;
    const scoped = parseCgroupSession(cgroup);
    return scoped === undefined || scoped === audit ? undefined : this.sessionRemote(scoped);
  }

  /** `REMOTE` of session `id`'s file, from the cache while fresh; `undefined` if none or unclear. */
  sessionRemote(id: string, now = Date.now()): boolean | undefined {
    if (!isSessionId(id)) return undefined;
    const cached = this.#cache.get(id);
    if (cached && now - cached.at < this.#ttlMs) return cached.remote;
    const remote = parseSessionFile(readTextOrUndefined(`${this.#dir}/${id}`))?.remote;
    // Re-inserting moves the id last, so the first in the map is the oldest.
    this.#cache.delete(id);
    this.#cache.set(id, { at: now, remote });
    while (this.#cache.size > this.#maxEntries) {
      this.#cache.delete(this.#cache.keys().next().value!);
    }
    return remote;
  }

  /** How many sessions are cached (for tests). */
  get cachedCount(): number {
    return this.#cache.size;
  }
}

/** What the agent reads from a logind session file. */
export interface LogindSession {
  /** `REMOTE=`; `undefined` when missing or not a boolean. */
  remote: boolean | undefined;
  /** Every `KEY=value`, values unquoted. */
  fields: Map<string, string>;
}

/**
 * Parses a session state file: `KEY=value` lines, `#` comments, values
 * possibly quoted (systemd's `parse_env_file()`). Anything it cannot read
 * is skipped; `undefined` only when there is no text.
 */
export function parseSessionFile(text: string | undefined): LogindSession | undefined {
  if (text === undefined) return undefined;
  const fields = new Map<string, string>();
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const equals = line.indexOf("=");
    if (equals <= 0) continue;
    const key = line.slice(0, equals).trim();
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) continue;
    fields.set(key, unquote(line.slice(equals + 1).trim()));
  }
  return { remote: parseBoolean(fields.get("REMOTE")), fields };
}

/** The audit session id in `/proc/PID/sessionid`; `undefined` when none. */
export function parseAuditSession(text: string | undefined): string | undefined {
  const id = text?.trim();
  if (!id || !/^\d+$/.test(id) || id === NO_AUDIT_SESSION || Number(id) === 0) return undefined;
  return String(Number(id));
}

/**
 * The logind session whose scope holds the process, from `/proc/PID/cgroup`
 * (`0::/user.slice/user-1000.slice/session-3.scope`, or the
 * `name=systemd` line of cgroup v1). The unified (`0::`) line is preferred.
 */
export function parseCgroupSession(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  let found: string | undefined;
  for (const line of text.split("\n")) {
    const parts = line.split(":");
    if (parts.length < 3) continue;
    const [hierarchy, controllers] = parts;
    if (!(hierarchy === "0" && controllers === "") && controllers !== "name=systemd") continue;
    const path = parts.slice(2).join(":");
    const match = path.match(/\/session-([^/]+)\.scope(?:\/|$)/);
    if (!match || !isSessionId(match[1])) continue;
    if (hierarchy === "0") return match[1];
    found ??= match[1];
  }
  return found;
}

/** logind's `session_id_valid()`: letters and digits only, which also keeps paths in the folder. */
function isSessionId(id: string): boolean {
  return /^[A-Za-z0-9]{1,64}$/.test(id);
}

/** systemd's `parse_boolean()`. */
function parseBoolean(value: string | undefined): boolean | undefined {
  switch (value?.toLowerCase()) {
    case "1":
    case "yes":
    case "y":
    case "true":
    case "t":
    case "on":
      return true;
    case "0":
    case "no":
    case "n":
    case "false":
    case "f":
    case "off":
      return false;
    default:
      return undefined;
  }
}

function unquote(value: string): string {
  const quote = value[0];
  if ((quote === '"' || quote === "'") && value.length >= 2 && value.endsWith(quote)) {
    return value.slice(1, -1);
  }
  return value;
}
