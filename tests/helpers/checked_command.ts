/**
 * Runs a command a test's setup depends on and fails with its output when
 * it fails, so a broken setup step says what went wrong.
 *
 * @module
 */

export interface CheckedCommandOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** Pass only `env` to the command, not this process's environment. */
  clearEnv?: boolean;
}

/** Runs `command args` to its end and returns its standard output; throws with its stderr. */
export async function runChecked(
  command: string,
  args: string[],
  options: CheckedCommandOptions = {},
): Promise<string> {
  const output = await new Deno.Command(command, {
    args,
    ...options,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  if (!output.success) {
    throw new Error(
      `${command} ${args.join(" ")} failed (exit code ${output.code}):\n` +
        decoder.decode(output.stderr) + decoder.decode(output.stdout),
    );
  }
  return decoder.decode(output.stdout);
}
