/**
 * Settings an administrator changes on a running site (`GET/PATCH
 * /v1/settings`), with their defaults coming from the site config. Stored
 * as one JSON value in `site_meta`, so a restart keeps what was changed.
 *
 * | setting | default | meaning |
 * | --- | --- | --- |
 * | `rawRetentionDays` | 30 | raw sessions that ended longer ago are deleted; summaries of that time are final |
 * | `summaryRetentionDays` | 400 | summaries older than this are deleted |
 * | `summarizeIntervalSeconds` | 15 | how often new sessions are summarised |
 * | `runningRefreshSeconds` | 300 | how often the run time of sessions still running is brought up to date |
 * | `autoRules` | false | create disabled rules, hourly, for programs installed on many computers |
 * | `autoRulesPercent` | 10 | ... on at least this share of the computers that sent an inventory |
 * | `autoRulesMax` | 100 | never more automatic rules than this at the site |
 * | `autoRulesApplicationsOnly` | true | only programs a desktop entry, snap or flatpak starts |
 * | `syncRequestsPerMinute` | 600 | sync requests one agent or child site may make a minute (then 429) |
 * | `enrollRequestsPerMinute` | 1000 | enrolments and registrations from one address a minute (then 429) |
 * | `unauthenticatedRequestsPerMinute` | 60 | requests from one address refused for bad or missing credentials a minute (then 429) |
 *
 * @module
 */
import { z } from "zod";
import type { Client } from "../store/db.ts";
import { KeyValueTable } from "../store/key_value_table.ts";

export const siteSettingsSchema = z.object({
  rawRetentionDays: z.number().int().min(1).max(3650),
  summaryRetentionDays: z.number().int().min(1).max(36500),
  summarizeIntervalSeconds: z.number().int().min(1).max(3600),
  runningRefreshSeconds: z.number().int().min(10).max(86400),
  autoRules: z.boolean(),
  autoRulesPercent: z.number().min(0.01).max(100),
  autoRulesMax: z.number().int().min(0).max(10_000),
  autoRulesApplicationsOnly: z.boolean(),
  syncRequestsPerMinute: z.number().int().min(1).max(1_000_000),
  enrollRequestsPerMinute: z.number().int().min(1).max(1_000_000),
  unauthenticatedRequestsPerMinute: z.number().int().min(1).max(1_000_000),
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
  autoRules: false,
  autoRulesPercent: 10,
  autoRulesMax: 100,
  autoRulesApplicationsOnly: true,
  syncRequestsPerMinute: 600,
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
