/**
 * Running a package manager's listing command (`rpm -qa`, `snap list`,
 * `flatpak list`) for an inventory source: its standard output as text, a
 * problem naming the source when it failed or was stopped at its time limit
 * (what it printed before still counts), and `null` when the tool is not
 * installed, which on most computers is the normal case and no problem. A
 * failed run is marked so, and the inventory keeps the source's earlier
 * records rather than take a partial listing for removals.
 *
 * @module
 */

export interface ToolOutput {
  text: string;
  problems: string[];
  /** It exited with an error or was stopped: its listing may be incomplete. */
  failed: boolean;
}

export interface ToolRun {
  /** The source's name, which starts every problem (`rpm`, `snap`, `flatpak`). */
  source: string;
  command: string;
  args: string[];
  env?: Record<string, string>;
  timeoutMs: number;
}

export async function toolOutput(run: ToolRun): Promise<ToolOutput | null> {
  const { source, command, args, timeoutMs } = run;
  const signal = AbortSignal.timeout(timeoutMs);
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command(command, {
      args,
      env: run.env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal,
    }).output();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    return {
      text: "",
      problems: [`${source}: cannot run ${command}: ${(error as Error).message}`],
      failed: true,
    };
  }
  const text = new TextDecoder().decode(output.stdout);
  if (output.success) return { text, problems: [], failed: false };
  const stderr = new TextDecoder().decode(output.stderr).trim().split("\n")[0];
  const why = signal.aborted
    ? `was stopped after ${timeoutMs / 1000} s`
    : `exited with code ${output.code}${stderr ? `: ${stderr}` : ""}`;
  return { text, problems: [`${source}: ${command} ${args[0]} ${why}`], failed: true };
}
