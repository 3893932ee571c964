/**
 * `meter site`: runs a site until interrupted.
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
import { waitForSignal } from "./wait_for_signal.ts";

export const siteCommand: Command = {
  name: "site",
  usage: `
Usage: meter site [options]
       meter site backup --to FILE [options]
       meter site restore --from FILE [options]

Runs a site: the HTTP API for administrators and tools, the sync endpoint
for agents, and the database that stores rules and usage. 'backup' copies
the database of a running site safely; 'restore' puts a backup back while the
site is stopped (see 'meter site backup --help', 'meter site restore --help').

Options:
  --code CODE        site code, 3 capital letters or digits (default S01)
  --port N           TCP port to listen on (default 8080; 0 picks a free one)
  --hostname ADDR    address to listen on (default 0.0.0.0)
  --db URL           libSQL database: a file path, file:, libsql:// or http(s)://
                     (default <data-dir>/site-<code>.db; a server's token comes
                     from METER_DB_AUTH_TOKEN)
  --data-dir DIR     folder for the default database (default .meter; created
                     if missing). The database file is made readable by its
                     owner only (0600), as are its -wal and -shm files
  --db-cache-mib N   SQLite's page cache of the site's database, in MiB (default
                     64). Smaller saves memory (about 50 MB at 16 under 50,000
                     agents); what no longer fits is read from the file again
  --doc-cache N      documents kept in the hot cache (default 2000)
  --sync-threads N   threads that apply agents' and child sites' syncs beside
                     the one that serves HTTP (default 0: that one applies
                     them, as it always does for a database that is not a
                     local file). For a site with a core to spare
  --parent URL       the parent site: this site follows the rules its ancestors
                     apply to child sites, and passes them to its agents
  --parent-token-file FILE
                     a file holding a 'site' token of the parent (meter token
                     create --role site at the parent), needed the first time
                     only; or env METER_PARENT_TOKEN
  --parent-token T   the token itself (other users can see it in 'ps')
  --parent-interval SECONDS
                     sync with the parent this often (default 60)
  --parent-ca FILE   the PEM certificate of the CA that signed the parent's
                     HTTPS certificate, when it is a private CA
  --cert FILE        serve HTTPS with this PEM certificate (with --key)
  --key FILE         ... and this PEM private key
  --config FILE      JSON file with any of: code, port, hostname, db,
                     dataDir, dbCacheMiB, docCacheSize, syncThreads, parent,
                     parentToken, parentIntervalSeconds (flags and
                     METER_PARENT_TOKEN win over the file; a key it does not
                     know is refused), and the defaults of rawRetentionDays
                     (30), summaryRetentionDays (400), summarizeIntervalSeconds
                     (15) and runningRefreshSeconds (300), which an admin can
                     change later with PATCH /v1/settings
  --log-level LEVEL  debug, info, warn or error (default info; logs are
                     JSON lines on stderr)
  -h, --help         show this help

Make the first admin token with 'meter token create --role admin' and the same
--db, or --data-dir, --code and --config; the rest with it over the API:
'meter token create --site URL --token-file ADMIN_TOKEN_FILE --role ...'.
`,
  options: {
    code: { type: "string" },
    port: { type: "string" },
    hostname: { type: "string" },
    db: { type: "string" },
    "data-dir": { type: "string" },
    "db-cache-mib": { type: "string" },
    "doc-cache": { type: "string" },
    "sync-threads": { type: "string" },
    parent: { type: "string" },
    ...secretOptions("parent-token"),
    "parent-interval": { type: "string" },
    "parent-ca": { type: "string" },
    cert: { type: "string" },
    key: { type: "string" },
    config: { type: "string" },
    "log-level": { type: "string" },
  },
  async run(values, positionals) {
    if (positionals.length > 0) {
      throw new UsageError(`unexpected ${positionals.join(" ")} (backup and restore come first)`);
    }
    // Loaded here, so that --help needs no permissions and loads nothing.
    const { loadSiteConfig } = await import("../site/mod.ts");
    const { startSite } = await import("../site/mod.ts");
    const { shownDatabaseUrl } = await import("../store/db.ts");
    applyLogLevel(values);
    const parentUrl = stringOption(values, "parent");
    const config = await loadSiteConfig(stringOption(values, "config"), {
      code: stringOption(values, "code"),
      port: intOption(values, "port", 0, 65535),
      hostname: stringOption(values, "hostname"),
      db: stringOption(values, "db"),
      dataDir: stringOption(values, "data-dir"),
      dbCacheMiB: intOption(values, "db-cache-mib", 2, 65_536),
      docCacheSize: intOption(values, "doc-cache", 10),
      syncThreads: intOption(values, "sync-threads", 0, 16),
      parent: parentUrl === undefined ? undefined : siteUrl(parentUrl, "parent"),
      parentToken: secretOption(values, "parent-token", "METER_PARENT_TOKEN"),
      parentIntervalSeconds: numberOption(values, "parent-interval", 0.1, 86_400),
      parentCa: stringOption(values, "parent-ca"),
      cert: stringOption(values, "cert"),
      key: stringOption(values, "key"),
    });
    const {
      rawRetentionDays,
      summaryRetentionDays,
      summarizeIntervalSeconds,
      runningRefreshSeconds,
    } = config;
    const settings = Object.fromEntries(
      Object.entries({
        rawRetentionDays,
        summaryRetentionDays,
        summarizeIntervalSeconds,
        runningRefreshSeconds,
      }).filter(([, v]) => v !== undefined),
    );
    const site = await startSite({ ...config, settings });
    console.log(
      `Meter site ${config.code} at ${site.url} (database ${shownDatabaseUrl(config.db)})`,
    );
    await waitForSignal();
    await site.stop();
  },
};
