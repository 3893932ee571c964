/**
 * Real programs for metering tests: a copy of `/bin/sleep` under a unique
 * name (so agents of other tests running beside never match it), started
 * and stopped by the test.
 *
 * @module
 */
import { join } from "node:path";
import type { SystemUser } from "./system_users.ts";

/** A unique program name such as `mtest-sleep-k3j9x2`. */
export function uniqueName(prefix = "mtest"): string {
  return `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
}

/** Copies `/bin/sleep` to `dir/name` and returns its path. */
export function copySleep(dir: string, name: string): Promise<string> {
  return copyProgram("/bin/sleep", dir, name);
}

/** Copies the program at `from` to `dir/name`, executable, and returns its path. */
export async function copyProgram(from: string, dir: string, name: string): Promise<string> {
  const path = join(dir, name);
  await Deno.copyFile(from, path);
  await Deno.chmod(path, 0o755);
  return path;
}

export interface RunningProgram {
  pid: number;
  startedAt: number;
  /** Resolves when it exits, with the time it did. */
  ended: Promise<number>;
  kill(): void;
}

/** Runs `path seconds` (a sleep copy) and notes when it started and ended. */
export function runProgram(
  path: string,
  seconds: number,
  options: { env?: Record<string, string>; user?: SystemUser } = {},
): RunningProgram {
  const startedAt = Date.now();
  const { user } = options;
  // setpriv execs the program as the user, keeping its own pid.
  const [program, args] = user
    ? ["setpriv", [
      `--reuid=${user.uid}`,
      `--regid=${user.gid}`,
      "--clear-groups",
      path,
      String(seconds),
    ]]
    : [path, [String(seconds)]];
  const child = new Deno.Command(program, {
    args,
    stdout: "null",
    stderr: "null",
    env: options.env,
  }).spawn();
  const ended = child.status.then(() => Date.now());
  return { pid: child.pid, startedAt, ended, kill: () => child.kill("SIGKILL") };
}

/** A fresh temporary directory, removed by the returned function. */
export async function tempDir(
  prefix = "meter-test-",
): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await Deno.makeTempDir({ prefix });
  return { dir, remove: () => Deno.remove(dir, { recursive: true }).catch(() => {}) };
}
