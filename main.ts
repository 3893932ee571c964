/**
 * `meter`: the command line of Meter, software metering.
 *
 * Every command has `--help`. Run with `deno task meter <command>` or
 * `deno run <permissions> main.ts <command>`.
 *
 * @module
 */
import { type Command, runCommand } from "./cli/command.ts";
import { METER_VERSION } from "./model/version.ts";

/**
 * Each command is loaded only when it runs, so an agent never loads the
 * site's code (and keeps its memory small), and the reverse.
 */
const commands: { name: string; summary: string; load: () => Promise<Command> }[] = [
  {
    name: "demo",
    summary: "run a site and a local agent with example rules, and show this machine's usage",
    load: async () => (await import("./cli/demo_command.ts")).demoCommand,
  },
  {
    name: "site",
    summary: "run a site: the HTTP API, sync endpoint and database; back it up or restore it",
    load: async () => (await import("./cli/site_command.ts")).siteCommand,
  },
  {
    name: "agent",
    summary: "run an agent: meter the programs the site's rules name",
    load: async () => (await import("./cli/agent_command.ts")).agentCommand,
  },
  {
    name: "token",
    summary:
      "create, list or revoke tokens over a site's API, or the first admin token in its database",
    load: async () => (await import("./cli/token_command.ts")).tokenCommand,
  },
  {
    name: "rules",
    summary: "list and edit a site's metering rules over its HTTP API",
    load: async () => (await import("./cli/rules_command.ts")).rulesCommand,
  },
  {
    name: "licences",
    summary: "record what the organisation owns, over a site's HTTP API",
    load: async () => (await import("./cli/licences_command.ts")).licencesCommand,
  },
  {
    name: "sites",
    summary: "list the hierarchy of sites a site knows, or remove a registered child",
    load: async () => (await import("./cli/sites_command.ts")).sitesCommand,
  },
  {
    name: "usage",
    summary: "list usage sessions recorded at a site",
    load: async () => (await import("./cli/usage_command.ts")).usageCommand,
  },
  {
    name: "report",
    summary: "print one of a site's reports (usage, concurrency, time of day, ...)",
    load: async () => (await import("./cli/report_command.ts")).reportCommand,
  },
  {
    name: "query-process",
    summary: "(internal) run a site's SQL queries in their own process; the site starts it",
    load: async () => (await import("./cli/query_process_command.ts")).queryProcessCommand,
  },
];

/** `meter site backup|restore`: commands of their own, under `site`. */
const siteSubcommands = new Map<string, () => Promise<Command>>([
  ["backup", async () => (await import("./cli/site_backup_command.ts")).siteBackupCommand],
  ["restore", async () => (await import("./cli/site_restore_command.ts")).siteRestoreCommand],
]);

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
  const subcommand = name === "site" ? siteSubcommands.get(rest[0]) : undefined;
  if (subcommand) return await runCommand(await subcommand(), rest.slice(1));
  const command = commands.find((c) => c.name === name);
  if (!command) {
    console.error(`meter: unknown command '${name}'\n\n${help()}`);
    return 2;
  }
  return await runCommand(await command.load(), rest);
}

if (import.meta.main) Deno.exit(await main(Deno.args));
