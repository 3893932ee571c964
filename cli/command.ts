/**
 * The shape of a `meter` command and the one way each is run: options parsed
 * strictly with `node:util` `parseArgs`, `--help` on every command, a usage
 * error (exit code 2) that says which option was wrong, and every other
 * failure as one line and exit code 1.
 *
 * @module
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { errorText } from "../lib/error_text.ts";
import { type LogLevel, logsAt, setLogLevel } from "../lib/log.ts";

export type Options = NonNullable<ParseArgsConfig["options"]>;
export type Values = Record<string, string | boolean | string[] | boolean[] | undefined>;

export interface Command {
  name: string;
  /** The full `--help` text. */
  usage: string;
  options: Options;
  run(values: Values, positionals: string[]): Promise<number | void>;
}

/** A mistake in how a command was called: printed with a pointer to --help. */
export class UsageError extends Error {}

/** `meter <command>`, for the lines printed while it runs. */
let running = "meter";

/** A one-line warning on stderr, named after the running command. */
export function warn(message: string): void {
  console.error(`${running}: warning: ${message}`);
}

/** A one-line notice on stderr (what the command is waiting for, what comes next). */
export function notice(message: string): void {
  console.error(`${running}: ${message}`);
}

export async function runCommand(command: Command, argv: string[]): Promise<number> {
  running = `meter ${command.name}`;
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: { ...command.options, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    return usageFailure(command, (error as Error).message);
  }
  if (parsed.values.help) {
    console.log(command.usage.trim());
    return 0;
  }
  try {
    return (await command.run(parsed.values as Values, parsed.positionals)) ?? 0;
  } catch (error) {
    if (error instanceof UsageError) return usageFailure(command, error.message);
    return failure(command, error);
  }
}

/**
 * Whatever else stops a command (a port in use, a folder it cannot write, a
 * site that does not answer, a database of another site) is one line and
 * exit code 1: the operator needs what went wrong, not where in the code.
 * The stack is for developers, with `METER_LOG_LEVEL=debug` or
 * `--log-level debug`.
 */
function failure(command: Command, error: unknown): number {
  console.error(`meter ${command.name}: ${errorText(error).replace(/\s*\n\s*/g, "; ")}`);
  if (logsAt("debug") && error instanceof Error && error.stack) console.error(error.stack);
  return 1;
}

function usageFailure(command: Command, message: string): number {
  console.error(`meter ${command.name}: ${message}\nSee 'meter ${command.name} --help'.`);
  return 2;
}

/** A string option, or a usage error naming it when it is required. */
export function stringOption(values: Values, name: string, required: true): string;
export function stringOption(values: Values, name: string, required?: false): string | undefined;
export function stringOption(values: Values, name: string, required = false): string | undefined {
  const value = values[name];
  if (typeof value === "string") return value;
  if (required) throw new UsageError(`--${name} is required`);
  return undefined;
}

/** An integer option within bounds, or a usage error naming it. */
export function intOption(values: Values, name: string, min = 0, max = Number.MAX_SAFE_INTEGER) {
  const value = stringOption(values, name);
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, not ${value}`);
  }
  return n;
}

/** A number option (fractions allowed) within bounds. */
export function numberOption(values: Values, name: string, min = 0, max = Number.MAX_VALUE) {
  const value = stringOption(values, name);
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be a number from ${min} to ${max}, not ${value}`);
  }
  return n;
}

/** Applies `--log-level` if given. */
export function applyLogLevel(values: Values): void {
  const level = stringOption(values, "log-level");
  if (level === undefined) return;
  if (!["debug", "info", "warn", "error"].includes(level)) {
    throw new UsageError(`--log-level is debug, info, warn or error, not ${level}`);
  }
  setLogLevel(level as LogLevel);
}
