/**
 * Site settings: a JSON file (`--config`) overridden by command-line flags,
 * with defaults that run a site on this machine at once.
 *
 * | setting | flag | default |
 * | --- | --- | --- |
 * | `code` | `--code` | `S01` |
 * | `port` | `--port` | `8080` |
 * | `hostname` | `--hostname` | `0.0.0.0` |
 * | `db` | `--db` | `<dataDir>/site-<code>.db` |
 * | `dbAuthToken` | (env `METER_DB_AUTH_TOKEN`) | none |
 * | `dataDir` | `--data-dir` | `.meter` |
 * | `docCacheSize` | `--doc-cache` | `2000` documents |
 * | `parent` | `--parent` | none: a top site |
 * | `parentToken` | `--parent-token`, `--parent-token-file`, env `METER_PARENT_TOKEN` (these win over the file) | none; needed to register once |
 * | `parentIntervalSeconds` | `--parent-interval` | `60` |
 * | `cert`, `key` | `--cert`, `--key` | none: plain HTTP |
 * | `parentCa` | `--parent-ca` | none: the system's CAs |
 * | `rawRetentionDays`, `summaryRetentionDays`, `summarizeIntervalSeconds`, `runningRefreshSeconds` | (file only) | see `site_settings.ts`; these are defaults, `PATCH /v1/settings` overrides them |
 *
 * @module
 */
import { join } from "node:path";
import { z } from "zod";
import { siteCodeSchema } from "../model/doc_id.ts";

export const siteConfigSchema = z.object({
  code: siteCodeSchema.default("S01"),
  port: z.number().int().min(0).max(65535).default(8080),
  hostname: z.string().default("0.0.0.0"),
  db: z.string().optional(),
  dbAuthToken: z.string().optional(),
  dataDir: z.string().default(".meter"),
  docCacheSize: z.number().int().min(10).default(2000),
  parent: z.url({
    protocol: /^https?$/,
    error: "parent is the parent site's URL with http:// or https://, e.g. http://hq:8080",
  }).optional(),
  parentToken: z.string().optional(),
  parentIntervalSeconds: z.number().min(0.1).max(86_400).default(60),
  cert: z.string().optional(),
  key: z.string().optional(),
  parentCa: z.string().optional(),
  rawRetentionDays: z.number().int().min(1).optional(),
  summaryRetentionDays: z.number().int().min(1).optional(),
  summarizeIntervalSeconds: z.number().int().min(1).optional(),
  runningRefreshSeconds: z.number().int().min(10).optional(),
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
  const fromFile = file ? await readConfigFile(file) : {};
  const defined = Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined));
  const parsed = siteConfigSchema.safeParse({
    dbAuthToken: Deno.env.get("METER_DB_AUTH_TOKEN"),
    ...fromFile,
    ...defined,
  });
  if (!parsed.success) throw new Error(`invalid site settings: ${oneLine(parsed.error)}`);
  const config = parsed.data;
  return { ...config, db: config.db ?? join(config.dataDir, `site-${config.code}.db`) };
}

/**
 * The file's settings. A key the site does not know is refused by name: a
 * misspelt `prot` silently left at its default would be found much later.
 */
async function readConfigFile(file: string): Promise<Record<string, unknown>> {
  let settings: unknown;
  try {
    settings = JSON.parse(await Deno.readTextFile(file));
  } catch (error) {
    throw new Error(`cannot read the config file ${file}: ${(error as Error).message}`);
  }
  if (typeof settings !== "object" || settings === null || Array.isArray(settings)) {
    throw new Error(`the config file ${file} is not a JSON object of settings`);
  }
  const known = Object.keys(siteConfigSchema.shape);
  const unknown = Object.keys(settings).filter((key) => !known.includes(key));
  if (unknown.length > 0) {
    const keys = unknown.map((key) => JSON.stringify(key)).join(", ");
    throw new Error(
      `the config file ${file} has unknown ${unknown.length === 1 ? "key" : "keys"} ${keys}; ` +
        `the keys are ${known.join(", ")}`,
    );
  }
  return settings as Record<string, unknown>;
}

/** Every issue on one line: `port: Too big ...; code: ...`. */
function oneLine(error: z.ZodError): string {
  return error.issues.map((issue) =>
    `${issue.path.length ? `${issue.path.join(".")}: ` : ""}${issue.message}`
  ).join("; ");
}
