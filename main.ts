/**
 * `meter`: the command line of Meter, software metering.
 *
 * Every command has `--help`. Run with `deno task meter <command>` or
 * `deno run <permissions> main.ts <command>`.
 *
 * @module
 */
import { agentCommand } from "./cli/agent_command.ts";
import { type Command, runCommand } from "./cli/command.ts";
import { demoCommand } from "./cli/demo_command.ts";
import { rulesCommand } from "./cli/rules_command.ts";
import { siteCommand } from "./cli/site_command.ts";
import { tokenCommand } from "./cli/token_command.ts";
import { usageCommand } from "./cli/usage_command.ts";
import { METER_VERSION } from "./sync/version.ts";

const commands: Command[] = [
  demoCommand,
  siteCommand,
  agentCommand,
  tokenCommand,
  rulesCommand,
  usageCommand,
];

function help(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return `Meter ${METER_VERSION}: software metering. Agents record which programs people run;
sites collect, summarise and report that usage.

Usage: meter <command> [options]

Commands:
${commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join("\n")}

Run 'meter <command> --help' for a command's options.`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    console.log(help());
    return name ? 0 : 2;
  }
  if (name === "--version") {
    console.log(METER_VERSION);
    return 0;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    console.error(`meter: unknown command '${name}'\n\n${help()}`);
    return 2;
  }
  return await runCommand(command, rest);
}

if (import.meta.main) Deno.exit(await main(Deno.args));
