/**
 * `meter demo`: Meter's main job on one machine. Starts a site on an
 * embedded libSQL file and an agent enrolled with it, as two processes,
 * adds rules for programs found on this machine, and shows the usage the
 * agent records as it reaches the site.
 *
 * @module
 */
import { join, resolve } from "node:path";
import { apiRequest, type ApiTarget } from "./api_client.ts";
import { type Command, intOption, stringOption } from "./command.ts";
import { renderTable } from "./output.ts";
import { firstToExit, startChild, stopChild } from "./demo_child.ts";
import type { SessionOutput } from "../model/session_output.ts";
import type { Rule } from "../model/rule.ts";

/** Programs worth metering if this machine has them: [rule name, file name]. */
const EXAMPLES: [string, string][] = [
  ["Bash shell", "bash"],
  ["Python 3", "python3*"],
  ["Node.js", "node"],
  ["Deno", "deno"],
  ["Git", "git"],
  ["Vim", "vim*"],
  ["sleep (try: sleep 5)", "sleep"],
];

export const demoCommand: Command = {
  name: "demo",
  usage: `
Usage: meter demo [options]

Starts a site (embedded libSQL file) and an agent enrolled with it, adds
rules for programs found on this machine (bash, python3, node, deno, git,
vim, sleep), and prints the usage sessions as they reach the site. Run a
metered program (for example 'sleep 5') and watch it appear. Ctrl-C stops
both processes; their logs are in the data folder. If one of them stops on
its own, the demo stops the other and exits 1, naming the log to read.

Options:
  --port N          the site's port (default 8080, or a free one if 8080 is taken)
  --data-dir DIR    where the databases and logs go (default .meter/demo)
  --duration S      stop after S seconds (default: run until Ctrl-C)
  -h, --help        show this help
`,
  options: {
    port: { type: "string" },
    "data-dir": { type: "string" },
    duration: { type: "string" },
  },
  async run(values) {
    const dataDir = resolve(stringOption(values, "data-dir") ?? ".meter/demo");
    const port = intOption(values, "port", 0, 65535) ?? (portFree(8080) ? 8080 : 0);
    const duration = intOption(values, "duration", 1);
    await Deno.mkdir(dataDir, { recursive: true });
    const siteDb = join(dataDir, "site.db");
    const { admin, enroll } = await demoTokens(siteDb);
    const site = await startChild("site", [
      "--db",
      siteDb,
      "--port",
      String(port),
      "--hostname",
      "127.0.0.1",
    ], join(dataDir, "site.log"));
    const siteUrl = await site.firstLine.then((line) => /(http:\/\/\S+)/.exec(line)?.[1]);
    if (!siteUrl) {
      console.error(`the site did not start; see ${join(dataDir, "site.log")}`);
      site.process.kill("SIGTERM");
      return 1;
    }
    const target = { site: siteUrl, token: admin };
    const rules = await addExampleRules(target);
    const agent = await startChild("agent", [
      "--site",
      siteUrl,
      "--enroll-token",
      enroll,
      "--db",
      join(dataDir, "agent.db"),
      "--interval",
      "10",
      "--sync-delay",
      "2",
    ], join(dataDir, "agent.log"));
    const adminFile = await saveSecret(join(dataDir, "admin.token"), admin);
    printIntro(siteUrl, admin, adminFile, rules, dataDir);
    // A child that stops on its own ends the demo, saying which and where its log is,
    // rather than printing that the site cannot be reached every five seconds.
    const stop = stopSignal(duration);
    const ending = Promise.race([
      stop.then(() => ({ died: undefined })),
      firstToExit({ site, agent }, dataDir).then(async (died) => ({
        // Ctrl-C in a terminal reaches the children too: one may be seen
        // exiting a moment before this process handles its own signal.
        died: await Promise.race([stop.then(() => undefined), delay(250).then(() => died)]),
      })),
    ]);
    let ended: { died?: string } | null;
    while (!(ended = await Promise.race([ending, delay(5000).then(() => null)]))) {
      await showUsage(target).catch((error) => console.error(`(${(error as Error).message})`));
    }
    if (!ended.died) await showUsage(target).catch(() => {});
    for (const child of [agent, site]) stopChild(child);
    await Promise.all([agent.process.status, site.process.status]);
    if (ended.died) {
      console.error(ended.died);
      return 1;
    }
    console.log("stopped the agent and the site");
  },
};

async function demoTokens(siteDb: string) {
  // Loaded here, so that --help needs no permissions and loads nothing.
  const { openSiteDatabase } = await import("../site/mod.ts");
  const { createToken } = await import("../site/mod.ts");
  const db = await openSiteDatabase(siteDb);
  try {
    const admin = await createToken(db, "admin", { label: "demo admin" });
    const enroll = await createToken(db, "enroll", { label: "demo agent", uses: 1 });
    return { admin: admin.token, enroll: enroll.token };
  } finally {
    db.close();
  }
}

/** Adds a rule for each example program found on the PATH, unless one exists. */
async function addExampleRules(target: ApiTarget): Promise<Rule[]> {
  const { data } = await apiRequest<{ rules: Rule[] }>(target, "GET", "v1/rules");
  const rules = [...data.rules];
  for (const [name, fileName] of EXAMPLES) {
    if (rules.some((r) => r.fileName === fileName)) continue;
    if (!onPath(fileName.replace("*", ""))) continue;
    const { data: rule } = await apiRequest<Rule>(target, "POST", "v1/rules", { name, fileName });
    rules.push(rule);
  }
  return rules;
}

function onPath(program: string): boolean {
  return (Deno.env.get("PATH") ?? "").split(":").some((dir) => {
    try {
      return Deno.statSync(join(dir, program)).isFile;
    } catch {
      return false;
    }
  });
}

/**
 * The admin token in a file only its owner can read, so that the commands
 * shown can name the file: a token on a command line is visible in 'ps'.
 */
async function saveSecret(file: string, secret: string): Promise<string> {
  await Deno.writeTextFile(file, secret + "\n", { mode: 0o600 });
  await Deno.chmod(file, 0o600);
  return file;
}

function printIntro(
  siteUrl: string,
  admin: string,
  adminFile: string,
  rules: Rule[],
  dataDir: string,
): void {
  const month = new Date().toISOString().slice(0, 7);
  console.log(`
Meter demo: a site and an agent on this machine.

  site         ${siteUrl}   (API description: ${siteUrl}/openapi.json)
  web console  ${siteUrl}/   (sign in with the admin token)
  admin token  ${admin}   (also in ${adminFile})
  metering     ${rules.map((r) => `${r.fileName} (${r.id})`).join(", ")}
  logs, data   ${dataDir}

Run one of those programs (e.g. 'sleep 5') and it appears below within seconds.
Try the API:  curl -H 'Authorization: Bearer ${admin}' '${siteUrl}/v1/usage?format=csv'
Or:           deno task meter usage --site ${siteUrl} --token-file ${adminFile}
Reports:      deno task meter report total-usage --month ${month} --site ${siteUrl} --token-file ${adminFile}
Installed:    deno task meter report install-base --site ${siteUrl} --token-file ${adminFile}
Ctrl-C stops the demo.
`);
}

async function showUsage(target: ApiTarget): Promise<void> {
  const { data } = await apiRequest<{ sessions: SessionOutput[] }>(
    target,
    "GET",
    "v1/usage?limit=10&order=desc",
  );
  const recent = data.sessions.reverse().map((s) => ({
    ...s,
    start: s.start.slice(11, 19),
    end: s.end?.slice(11, 19) ?? "running",
  }));
  console.log(`\n${new Date().toISOString().slice(11, 19)}  the latest sessions at the site:`);
  console.log(
    recent.length
      ? renderTable(["user", "ruleName", "exe", "pid", "start", "end", "durationSeconds"], recent)
      : "(none yet)",
  );
}

function portFree(port: number): boolean {
  try {
    Deno.listen({ port, hostname: "127.0.0.1" }).close();
    return true;
  } catch {
    return false;
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function stopSignal(durationSeconds: number | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = () => resolve();
    Deno.addSignalListener("SIGINT", done);
    Deno.addSignalListener("SIGTERM", done);
    if (durationSeconds) setTimeout(done, durationSeconds * 1000);
  });
}
