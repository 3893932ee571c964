/**
 * JSON-lines logging on stderr, one object per line with `time`, `level`,
 * `msg` and the given fields, so an operator can grep it or ship it.
 *
 * The level comes from `METER_LOG_LEVEL` (`debug`, `info`, `warn`, `error`;
 * default `info`).
 *
 * @example
 * ```ts
 * import { log } from "./log.ts";
 * log.info("site listening", { port: 8080 });
 * ```
 *
 * @module
 */

export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFields = Record<string, unknown>;

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const encoder = new TextEncoder();

/** The level from the environment; without permission to read it, `info`. */
function configuredLevel(): LogLevel {
  try {
    const value = Deno.env.get("METER_LOG_LEVEL");
    return value && value in rank ? value as LogLevel : "info";
  } catch {
    return "info";
  }
}

let threshold = rank[configuredLevel()];

/** Changes the least level written (tests and `--log-level`). */
export function setLogLevel(level: LogLevel): void {
  threshold = rank[level];
}

/** Whether messages of `level` are written: `debug` also shows the stacks of failed commands. */
export function logsAt(level: LogLevel): boolean {
  return rank[level] >= threshold;
}

function write(level: LogLevel, msg: string, fields?: LogFields): void {
  if (rank[level] < threshold) return;
  const line = JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields }, replacer);
  const bytes = encoder.encode(line + "\n");
  for (let done = 0; done < bytes.length;) done += Deno.stderr.writeSync(bytes.subarray(done));
}

// Errors become their message; byte arrays their length, never their content.
function replacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return value.message;
  if (value instanceof Uint8Array) return `<${value.byteLength} bytes>`;
  if (typeof value === "bigint") return value.toString();
  return value;
}

export const log = {
  debug: (msg: string, fields?: LogFields) => write("debug", msg, fields),
  info: (msg: string, fields?: LogFields) => write("info", msg, fields),
  warn: (msg: string, fields?: LogFields) => write("warn", msg, fields),
  error: (msg: string, fields?: LogFields) => write("error", msg, fields),
};
