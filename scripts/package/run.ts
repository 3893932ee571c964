/**
 * Runs a program the packaging needs (npm, tar, dpkg-deb, wixl, the mingw
 * compiler) to its end, and fails with its output when it fails, so a broken
 * step says what went wrong.
 *
 * @module
 */

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** Pass only `env` to the command, not this process's environment. */
  clearEnv?: boolean;
}

/** Runs `command args` and returns its standard output; throws with its stderr. */
export async function run(command: string, args: string[], options: RunOptions = {}) {
  const output = await new Deno.Command(command, {
    args,
    ...options,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output().catch((error) => {
    throw new Error(`cannot run ${command}: ${(error as Error).message}`);
  });
  const decoder = new TextDecoder();
  if (!output.success) {
    throw new Error(
      `${command} ${args.join(" ")} failed (exit code ${output.code}):\n` +
        decoder.decode(output.stderr) + decoder.decode(output.stdout),
    );
  }
  return decoder.decode(output.stdout);
}
