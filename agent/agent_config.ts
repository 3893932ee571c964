/**
 * Agent settings: a JSON file (`meter agent --config FILE`, comments
 * allowed) overridden by command-line flags, so a configuration-management
 * tool can deploy one file to every computer (the Linux package's is
 * `/etc/meter/agent.json`) and an operator can still try one flag.
 *
 * Each key's meaning, flag and shown default are in its schema's metadata,
 * from which `scripts/config_docs.ts` writes the agent's table in
 * `docs/configuration.md`.
 *
 * @module
 */
import { z } from "zod";
import { givenSettings, issuesText, readConfigFile } from "../lib/config_file.ts";
import { defaultAgentDatabase } from "./platform.ts";

const siteUrl = z.url({
  protocol: /^https?$/,
  error: "a site URL with http:// or https://, e.g. http://site.example:8080",
});

export const agentConfigSchema = z.object({
  site: siteUrl.optional().meta({
    description: "the site the agent enrols with and syncs to (required)",
    flag: "`--site URL`",
    shownDefault: "none",
  }),
  fallbackSites: z.array(siteUrl).max(16).default([]).meta({
    description: "its site's ancestors, which take usage while the site is away",
    flag: "`--site URL` again",
    shownDefault: "none",
  }),
  enrollTokenFile: z.string().min(1).optional().meta({
    description: "file holding an `enroll` token, read only until the agent has enrolled",
    flag: "`--enroll-token-file FILE`, `--enroll-token` or env `METER_ENROLL_TOKEN`",
    shownDefault: "none",
  }),
  ca: z.string().min(1).optional().meta({
    description: "the CA that signed the site's certificate (a private CA)",
    flag: "`--ca FILE`",
    shownDefault: "the system's CAs",
  }),
  db: z.string().min(1).optional().meta({
    description: "the agent's database file (its usage, its credential)",
    flag: "`--db PATH`",
    shownDefault: "`.meter/agent.db`; `%ProgramData%\\Meter\\agent.db` on Windows",
  }),
  syncIntervalSeconds: z.number().min(1).max(86_400).optional().meta({
    description:
      "sync at least every; unset, the agent syncs when its site says (`agentSyncSeconds`, 5 minutes by default) and waits for new rules between syncs",
    flag: "`--interval SECONDS`",
    shownDefault: "the site's",
  }),
  pollSeconds: z.number().min(0.1).max(86_400).default(1).meta({
    description: "look at processes every",
    flag: "`--poll SECONDS`",
  }),
  syncDelaySeconds: z.number().min(0).max(86_400).default(5).meta({
    description: "sync this long after sessions start or end",
    flag: "`--sync-delay SECONDS`",
  }),
  keepDays: z.number().int().min(0).max(3650).default(2).meta({
    description: "days usage the site has confirmed is kept",
    flag: "`--keep-days N`",
  }),
  maxUnsentMb: z.number().int().min(1).default(100).meta({
    description: "most unsent usage kept (MB); beyond it the oldest days are dropped",
    flag: "`--max-unsent-mb N`",
  }),
  inventoryHours: z.number().min(0.01).max(8760).default(24).meta({
    description: "take the software inventory every (hours)",
    flag: "`--inventory-hours N`",
  }),
  inventoryCheckSeconds: z.number().min(1).max(86_400).default(10).meta({
    description: "look for installed or removed software every",
    flag: "`--inventory-check SECONDS`",
  }),
  inventoryHashMb: z.number().int().min(1).default(256).meta({
    description: "most MB of programs one inventory run reads to hash them",
    flag: "`--inventory-hash-mb N`",
  }),
  processEvents: z.boolean().default(true).meta({
    description: "take exec and exit events from the kernel where allowed (Linux, as root): " +
      "exact times, runs shorter than a poll; false polls `/proc` only",
    flag: "`--process-events`, `--no-process-events`",
  }),
  // No default here: without the key or the flag, METER_LOG_LEVEL decides.
  logLevel: z.enum(["debug", "info", "warn", "error"]).optional().meta({
    description: "least level logged (JSON lines on stderr)",
    flag: "`--log-level LEVEL` or env `METER_LOG_LEVEL` (both win over the file)",
    shownDefault: "`info`",
  }),
}).strict();

export type AgentConfig = z.infer<typeof agentConfigSchema> & { site: string; db: string };

/** Reads the config file (if any), applies the flags over it, and checks the result. */
export async function loadAgentConfig(
  file: string | undefined,
  flags: Partial<Record<keyof AgentConfig, unknown>>,
): Promise<AgentConfig> {
  const fromFile = file ? await readConfigFile(file, Object.keys(agentConfigSchema.shape)) : {};
  const parsed = agentConfigSchema.safeParse({ ...fromFile, ...givenSettings(flags) });
  if (!parsed.success) {
    throw new Error(`invalid agent settings${inFile(file)}: ${issuesText(parsed.error)}`);
  }
  const { site, db } = parsed.data;
  if (site === undefined) {
    throw new Error(`the agent needs its site: give --site URL or "site" in a --config file`);
  }
  return { ...parsed.data, site, db: db ?? defaultAgentDatabase() };
}

function inFile(file: string | undefined): string {
  return file === undefined ? "" : ` (${file} and the flags)`;
}
