/**
 * Settings an administrator changes on a running site (`GET/PATCH
 * /v1/settings`), with their defaults coming from the site config. Stored
 * as one JSON value in `site_meta`, so a restart keeps what was changed.
 *
 * Each setting's meaning is in its schema's `description`, from which
 * `scripts/config_docs.ts` writes the table of `docs/settings.md`.
 *
 * @module
 */
import { z } from "zod";
import type { Client } from "../store/db.ts";
import { KeyValueTable } from "../store/key_value_table.ts";

/** How a secret setting is shown: set, never what it is. */
export const SECRET_SHOWN = "(set)";

export const siteSettingsSchema = z.object({
  rawRetentionDays: z.number().int().min(1).max(3650).meta({
    description:
      "raw sessions that ended longer ago are deleted, in batches of 5,000 rows an hour; summaries of that time are final",
  }),
  summaryRetentionDays: z.number().int().min(1).max(36500).meta({
    description: "summaries older than this are deleted; at least `rawRetentionDays`",
  }),
  summarizeIntervalSeconds: z.number().int().min(1).max(3600).meta({
    description: "how often new sessions are summarised",
  }),
  runningRefreshSeconds: z.number().int().min(10).max(86400).meta({
    description: "how often the run time of sessions still running is brought up to date",
  }),
  licenceRefreshSeconds: z.number().int().min(10).max(86400).meta({
    description:
      "how often the figures of [licence positions](licences.md) are brought up to date (and alerts checked)",
  }),
  alertWebhookUrl: z.string().max(2000).refine(
    (url) => /^https?:\/\/[^\s]+$/i.test(url) && URL.canParse(url),
    "alertWebhookUrl is an http:// or https:// URL",
  ).nullable().meta({
    description:
      "where [licence alerts](licences.md#alerts) are POSTed as JSON, signed with `alertWebhookSecret`; null for none",
  }),
  alertWebhookSecret: z.union([
    z.literal(SECRET_SHOWN),
    z.string().min(16, "alertWebhookSecret is 16 to 256 characters").max(256),
  ]).nullable().meta({
    description:
      "the HMAC-SHA256 key of the alerts' `X-Meter-Signature`; `GET` shows it as `(set)`, and a `PATCH` with `(set)` keeps it",
  }),
  autoRules: z.boolean().meta({
    description: "every hour, create disabled [automatic rules](inventory.md#automatic-rules)",
  }),
  autoRulesPercent: z.number().min(0.01).max(100).meta({
    description:
      "... for programs installed on at least this percentage of the computers that sent an inventory",
  }),
  autoRulesMax: z.number().int().min(0).max(10_000).meta({
    description: "never more automatic rules than this at the site",
  }),
  autoRulesApplicationsOnly: z.boolean().meta({
    description: "consider only applications: programs a desktop entry, snap or flatpak starts",
  }),
  syncRequestsPerMinute: z.number().int().min(1).max(1_000_000).meta({
    description:
      "sync requests one agent or child site may make a minute, in bursts of as many; past it 429 with `Retry-After`, which agents and child sites honour",
  }),
  agentSyncSeconds: z.number().int().min(10).max(86_400).meta({
    description:
      "how long an agent with nothing new waits before it syncs again, told in every sync answer (each answer varies it by up to 10 %, so the fleet spreads out); an agent's own `syncIntervalSeconds` overrides it",
  }),
  maxWaitingAgents: z.number().int().min(0).max(1_000_000).meta({
    description:
      "agents whose wait for new rules (`GET /v1/sync/wait`) the site holds at once, about 20 KB of memory each; past it a wait is answered at once, and the agent asks again within a minute",
  }),
  enrollRequestsPerMinute: z.number().int().min(1).max(1_000_000).meta({
    description: "enrolments and site registrations from one address a minute; past it 429",
  }),
  unauthenticatedRequestsPerMinute: z.number().int().min(1).max(1_000_000).meta({
    description:
      "requests from one address refused for their credentials a minute (401s, console cookies with a refused token, forms from another origin), in bursts of as many; past it those are answered 429 with `Retry-After`, and the address's good requests still pass",
  }),
}).strict().refine(
  (s) => s.summaryRetentionDays >= s.rawRetentionDays,
  "summaryRetentionDays must be at least rawRetentionDays: summaries are built from raw sessions",
);

export type SiteSettings = z.infer<typeof siteSettingsSchema>;

export const DEFAULT_SETTINGS: SiteSettings = {
  rawRetentionDays: 30,
  summaryRetentionDays: 400,
  summarizeIntervalSeconds: 15,
  runningRefreshSeconds: 300,
  licenceRefreshSeconds: 300,
  alertWebhookUrl: null,
  alertWebhookSecret: null,
  autoRules: false,
  autoRulesPercent: 10,
  autoRulesMax: 100,
  autoRulesApplicationsOnly: true,
  syncRequestsPerMinute: 600,
  agentSyncSeconds: 300,
  maxWaitingAgents: 2_000,
  enrollRequestsPerMinute: 1_000,
  unauthenticatedRequestsPerMinute: 60,
};

const KEY = "settings";

/** The settings in force: stored changes over the given defaults. */
export async function loadSettings(db: Client, defaults: SiteSettings): Promise<SiteSettings> {
  const stored = await new KeyValueTable(db, "site_meta").get(KEY);
  const merged = { ...defaults, ...(stored ? JSON.parse(stored) : {}) };
  const parsed = siteSettingsSchema.safeParse(merged);
  return parsed.success ? parsed.data : defaults;
}

export async function saveSettings(db: Client, settings: SiteSettings): Promise<void> {
  await new KeyValueTable(db, "site_meta").set(KEY, JSON.stringify(settings));
}

/** The settings as they may be shown or logged: a secret only as set or not. */
export function shownSettings<T extends Partial<SiteSettings>>(settings: T): T {
  return settings.alertWebhookSecret ? { ...settings, alertWebhookSecret: SECRET_SHOWN } : settings;
}
