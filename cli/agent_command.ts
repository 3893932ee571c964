/**
 * `meter agent`: runs an agent until interrupted.
 *
 * @module
 */
import {
  applyLogLevel,
  type Command,
  intOption,
  numberOption,
  stringOption,
  UsageError,
} from "./command.ts";
import { secretOption, secretOptions } from "./secret_option.ts";
import { siteUrl } from "./site_url.ts";
import { stopOnSignal } from "./wait_for_signal.ts";

export const agentCommand: Command = {
  name: "agent",
  usage: `
Usage: meter agent --site URL [--site FALLBACK ...] [options]

Runs an agent: watches processes, records a usage session for every run of a
program the site's rules name, keeps it in its own database and syncs it to
the site. With the site away it keeps metering and delivers everything once
the site is back. Run it as root: as another user it cannot read other
users' executables, and matches their programs by argv[0] alone.

Options:
  --site URL              the site, e.g. http://site.example:8080 (required); give
                          it again for fallback sites (its site's ancestors): while
                          the first is away, usage is left at the next that answers,
                          and still delivered to the first once it is back
  --enroll-token-file FILE
                          a file holding an enroll token, needed on the first run
                          only; or env METER_ENROLL_TOKEN
  --enroll-token TOKEN    the token itself (other users can see it in 'ps')
  --ca FILE               the PEM certificate of the CA that signed the site's HTTPS
                          certificate, when it is a private CA
  --db PATH               the agent's database file (default .meter/agent.db;
                          %ProgramData%\\Meter\\agent.db on Windows)
  --interval SECONDS      sync at least this often (default 60)
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
  --log-level LEVEL       debug, info, warn or error (default info; logs are JSON
                          lines on stderr)
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
  },
  async run(values) {
    applyLogLevel(values);
    const sites = (values.site as string[] | undefined) ?? [];
    if (sites.length === 0) throw new UsageError("--site is required");
    const [site, ...fallbackSites] = sites.map((url) => siteUrl(url, "site"));
    const seconds = (name: string, fallback: number, min: number) =>
      (numberOption(values, name, min, 86_400) ?? fallback) * 1000;
    // Loaded here, so that --help needs no permissions and loads nothing.
    const { Agent, defaultAgentDatabase, thisPlatform } = await import("../agent/mod.ts");
    const agent = await Agent.open({
      platform: await thisPlatform(),
      site,
      fallbackSites,
      caFile: stringOption(values, "ca"),
      enrollToken: secretOption(values, "enroll-token", "METER_ENROLL_TOKEN"),
      db: stringOption(values, "db") ?? defaultAgentDatabase(),
      syncIntervalMs: seconds("interval", 60, 1),
      pollIntervalMs: seconds("poll", 1, 0.1),
      syncDelayMs: seconds("sync-delay", 5, 0),
      keepDays: intOption(values, "keep-days", 0, 3650) ?? 2,
      maxUnsentBytes: (intOption(values, "max-unsent-mb", 1) ?? 100) * 1024 * 1024,
      inventoryIntervalMs: (numberOption(values, "inventory-hours", 0.01, 8760) ?? 24) *
        3_600_000,
      inventoryCheckMs: seconds("inventory-check", 10, 1),
      inventoryHashBytes: (intOption(values, "inventory-hash-mb", 1) ?? 256) * 1024 * 1024,
    });
    agent.start();
    await stopOnSignal(() => agent.stop());
  },
};
