/**
 * `meter agent`: runs an agent until interrupted.
 *
 * @module
 */
import { applyLogLevel, type Command, intOption, numberOption, stringOption } from "./command.ts";
import { setLogLevel } from "../lib/log.ts";
import { secretFileIfPresent, secretOptions } from "./secret_option.ts";
import { siteUrl } from "./site_url.ts";
import { stopOnSignal } from "./wait_for_signal.ts";

export const agentCommand: Command = {
  name: "agent",
  usage: `
Usage: meter agent --site URL [--site FALLBACK ...] [options]
       meter agent --config FILE [options]

Runs an agent: watches processes, records a usage session for every run of a
program the site's rules name, keeps it in its own database and syncs it to
the site. With the site away it keeps metering and delivers everything once
the site is back. Run it as root: as another user it cannot read other
users' executables, and matches their programs by argv[0] alone.

Options:
  --site URL              the site, e.g. http://site.example:8080 (required here
                          or in --config); give
                          it again for fallback sites (its site's ancestors): while
                          the first is away, usage is left at the next that answers,
                          and still delivered to the first once it is back
  --enroll-token-file FILE
                          a file holding an enroll token, read on the first run
                          only (it may be removed once the agent has enrolled);
                          or env METER_ENROLL_TOKEN
  --enroll-token TOKEN    the token itself (other users can see it in 'ps')
  --ca FILE               the PEM certificate of the CA that signed the site's HTTPS
                          certificate, when it is a private CA
  --db PATH               the agent's database file (default .meter/agent.db;
                          %ProgramData%\\Meter\\agent.db on Windows)
  --interval SECONDS      sync at least this often (default: when the site says,
                          5 minutes unless it is set otherwise)
  --poll SECONDS          look at processes this often (default 1)
  --sync-delay SECONDS    sync this long after sessions start or end (default 5)
  --keep-days N           keep usage the site has confirmed for N days (default 2)
  --max-unsent-mb N       keep at most N MB of unsent usage; beyond it the oldest
                          days are dropped, with a warning (default 100)
  --inventory-hours N     take the software inventory this often (default 24); it is
                          also taken at start and soon after software is installed
                          or removed
  --inventory-check SECONDS
                          look for installed or removed software this often
                          (default 10)
  --inventory-hash-mb N   read at most N MB of programs per inventory run to hash
                          them; the rest are hashed in later runs (default 256)
  --no-process-events     poll /proc only. By default (--process-events), where it may
                          (Linux, as root), the agent takes exec and exit events from
                          the kernel: exact start and end times, and runs shorter than
                          a poll; without root it polls, and logs why
  --log-level LEVEL       debug, info, warn or error (default info; logs are JSON
                          lines on stderr)
  --config FILE           a JSON file of settings (comments allowed): site,
                          fallbackSites, enrollTokenFile, ca, db,
                          syncIntervalSeconds, pollSeconds, syncDelaySeconds,
                          keepDays, maxUnsentMb, inventoryHours,
                          inventoryCheckSeconds, inventoryHashMb, processEvents,
                          logLevel; flags
                          win over the file, and a key it does not know is
                          refused (docs/configuration.md)
  -h, --help              show this help
`,
  options: {
    site: { type: "string", multiple: true },
    ...secretOptions("enroll-token"),
    ca: { type: "string" },
    db: { type: "string" },
    interval: { type: "string" },
    poll: { type: "string" },
    "sync-delay": { type: "string" },
    "keep-days": { type: "string" },
    "max-unsent-mb": { type: "string" },
    "inventory-hours": { type: "string" },
    "inventory-check": { type: "string" },
    "inventory-hash-mb": { type: "string" },
    "log-level": { type: "string" },
    config: { type: "string" },
    "process-events": { type: "boolean" },
    "no-process-events": { type: "boolean" },
  },
  async run(values) {
    applyLogLevel(values);
    // Loaded here, so that --help needs no permissions and loads nothing.
    const { Agent, loadAgentConfig, thisPlatform } = await import("../agent/mod.ts");
    const sites = ((values.site as string[] | undefined) ?? []).map((url) => siteUrl(url, "site"));
    const config = await loadAgentConfig(stringOption(values, "config"), {
      site: sites[0],
      fallbackSites: sites.length > 1 ? sites.slice(1) : undefined,
      ca: stringOption(values, "ca"),
      db: stringOption(values, "db"),
      syncIntervalSeconds: numberOption(values, "interval"),
      pollSeconds: numberOption(values, "poll"),
      syncDelaySeconds: numberOption(values, "sync-delay"),
      keepDays: intOption(values, "keep-days"),
      maxUnsentMb: intOption(values, "max-unsent-mb"),
      inventoryHours: numberOption(values, "inventory-hours"),
      inventoryCheckSeconds: numberOption(values, "inventory-check"),
      inventoryHashMb: intOption(values, "inventory-hash-mb"),
      processEvents: values["no-process-events"] === true
        ? false
        : values["process-events"] === true
        ? true
        : undefined,
    });
    // The flag (applied above), then METER_LOG_LEVEL, then the file: as for the site's tokens.
    const fileLevel = values["log-level"] === undefined && !Deno.env.get("METER_LOG_LEVEL");
    if (fileLevel && config.logLevel !== undefined) setLogLevel(config.logLevel);
    const tokenFile = stringOption(values, "enroll-token-file") ?? config.enrollTokenFile;
    const enrollToken = stringOption(values, "enroll-token") ??
      (tokenFile !== undefined
        ? secretFileIfPresent(tokenFile, "enroll-token-file")
        : Deno.env.get("METER_ENROLL_TOKEN") || undefined);
    const agent = await Agent.open({
      platform: await thisPlatform({ processEvents: config.processEvents }),
      site: config.site,
      fallbackSites: config.fallbackSites,
      caFile: config.ca,
      enrollToken,
      enrollTokenFile: tokenFile,
      db: config.db,
      syncIntervalMs: config.syncIntervalSeconds === undefined
        ? undefined
        : config.syncIntervalSeconds * 1000,
      pollIntervalMs: config.pollSeconds * 1000,
      syncDelayMs: config.syncDelaySeconds * 1000,
      keepDays: config.keepDays,
      maxUnsentBytes: config.maxUnsentMb * 1024 * 1024,
      inventoryIntervalMs: config.inventoryHours * 3_600_000,
      inventoryCheckMs: config.inventoryCheckSeconds * 1000,
      inventoryHashBytes: config.inventoryHashMb * 1024 * 1024,
    });
    agent.start();
    await stopOnSignal(() => agent.stop());
  },
};
