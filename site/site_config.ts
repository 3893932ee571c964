/**
 * Site settings: a JSON file (`--config`) overridden by command-line flags,
 * with defaults that run a site on this machine at once.
 *
 * Each key's meaning, flag and shown default are in its schema's metadata,
 * from which `scripts/config_docs.ts` writes the table of
 * `docs/configuration.md`.
 *
 * @module
 */
import { join } from "node:path";
import { z } from "zod";
import { siteCodeSchema } from "../model/doc_id.ts";
import { givenSettings, issuesText, readConfigFile } from "../lib/config_file.ts";

export const siteConfigSchema = z.object({
  code: siteCodeSchema.default("S01").meta({
    description: "site code (3 capitals or digits)",
    flag: "`--code`",
  }),
  port: z.number().int().min(0).max(65535).default(8080).meta({
    description: "port",
    flag: "`--port`",
  }),
  hostname: z.string().default("0.0.0.0").meta({
    description: "listen address",
    flag: "`--hostname`",
  }),
  db: z.string().optional().meta({
    description: "database: file path, `file:`, `libsql://`, `http(s)://`",
    flag: "`--db`",
    shownDefault: "`<dataDir>/site-<code>.db`",
  }),
  dbAuthToken: z.string().optional().meta({
    description: "auth token of a libSQL server",
    flag: "env `METER_DB_AUTH_TOKEN`",
    shownDefault: "none",
  }),
  dataDir: z.string().default(".meter").meta({
    description: "folder for the default database (created if missing)",
    flag: "`--data-dir`",
  }),
  dbCacheMiB: z.number().int().min(2).max(65_536).optional().meta({
    description: "SQLite page cache of the site's database connection, in MiB (embedded file)",
    flag: "`--db-cache-mib N`",
    shownDefault: "`64`",
  }),
  docCacheSize: z.number().int().min(10).default(2000).meta({
    description: "documents kept in the hot cache",
    flag: "`--doc-cache`",
  }),
  syncThreads: z.number().int().min(0).max(16).optional().meta({
    description: "threads that answer agents' and child sites' syncs (0: the site's own thread)",
    flag: "`--sync-threads N`",
    shownDefault: "0",
  }),
  parent: z.url({
    protocol: /^https?$/,
    error: "parent is the parent site's URL with http:// or https://, e.g. http://hq:8080",
  }).optional().meta({
    description: "the parent site, for a child site in a [hierarchy](hierarchy.md)",
    flag: "`--parent URL`",
    shownDefault: "none (a top site)",
  }),
  parentToken: z.string().optional().meta({
    description: "the parent's `site` token, needed to register once",
    flag: "`--parent-token-file FILE`, `--parent-token` or env `METER_PARENT_TOKEN`",
    shownDefault: "none",
  }),
  parentIntervalSeconds: z.number().min(0.1).max(86_400).default(60).meta({
    description: "sync with the parent every",
    flag: "`--parent-interval SECONDS`",
  }),
  cert: z.string().optional().meta({
    description: "serve HTTPS with this certificate (PEM), given with `key`",
    flag: "`--cert FILE`",
    shownDefault: "none: plain HTTP",
  }),
  key: z.string().optional().meta({
    description: "the certificate's private key (PEM), given with `cert`",
    flag: "`--key FILE`",
    shownDefault: "none: plain HTTP",
  }),
  parentCa: z.string().optional().meta({
    description: "the CA that signed the parent's certificate (a private CA)",
    flag: "`--parent-ca FILE`",
    shownDefault: "the system's CAs",
  }),
  rawRetentionDays: z.number().int().min(1).optional().meta({
    description: "default of the [setting](settings.md) of the same name",
    flag: "file only",
    shownDefault: "see settings",
  }),
  summaryRetentionDays: z.number().int().min(1).optional().meta({
    description: "default of the [setting](settings.md) of the same name",
    flag: "file only",
    shownDefault: "see settings",
  }),
  summarizeIntervalSeconds: z.number().int().min(1).optional().meta({
    description: "default of the [setting](settings.md) of the same name",
    flag: "file only",
    shownDefault: "see settings",
  }),
  runningRefreshSeconds: z.number().int().min(10).optional().meta({
    description: "default of the [setting](settings.md) of the same name",
    flag: "file only",
    shownDefault: "see settings",
  }),
}).strict().refine(
  (config) => (config.cert === undefined) === (config.key === undefined),
  "give both --cert and --key to serve HTTPS, or neither",
);

export type SiteConfig = z.infer<typeof siteConfigSchema> & { db: string };

/** Reads the config file (if any), applies the flags over it, and checks it. */
export async function loadSiteConfig(
  file: string | undefined,
  flags: Partial<Record<keyof SiteConfig, unknown>>,
): Promise<SiteConfig> {
  const fromFile = file ? await readConfigFile(file, Object.keys(siteConfigSchema.shape)) : {};
  const defined = givenSettings(flags);
  const parsed = siteConfigSchema.safeParse({
    dbAuthToken: Deno.env.get("METER_DB_AUTH_TOKEN"),
    ...fromFile,
    ...defined,
  });
  if (!parsed.success) throw new Error(`invalid site settings: ${issuesText(parsed.error)}`);
  const config = parsed.data;
  return { ...config, db: config.db ?? join(config.dataDir, `site-${config.code}.db`) };
}
