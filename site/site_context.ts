/**
 * What the site's HTTP routes and console are given: the store handle, the
 * site's place in the hierarchy, and the services a request may use. Only the
 * HTTP layer receives it whole; each service below takes the narrow part it
 * uses (a `Store`, a `Client`, a settings getter), so nothing beneath the
 * routes depends on the running site. It is put together in one place, by
 * `openSite` in `site_server.ts`.
 *
 * @module
 */
import type { Store } from "../store/store.ts";
import type { AuditLog } from "./access/audit_log.ts";
import type { LastSeen } from "./clients/last_seen.ts";
import type { CredentialCache } from "./clients/credential_cache.ts";
import type { Lineage } from "./hierarchy/lineage.ts";
import type { Metrics } from "./http/metrics.ts";
import type { RateLimits } from "./http/rate_limits.ts";
import type { RulesVersion } from "./rules/rules_version.ts";
import type { AutoRules } from "./inventory/auto_rules.ts";
import type { LicenceRefreshTask } from "./licences/licence_refresh_task.ts";
import type { QueryRunner } from "./query/query_runner.ts";
import type { SiteSettings } from "./site_settings.ts";
import type { SummarizerThread } from "./summaries/summarizer_thread.ts";
import type { SyncThreads } from "./sync_threads/sync_threads.ts";

export interface SiteContext extends Store, Lineage {
  /** Answers sync batches, on threads of their own when the database is a file. */
  sync: SyncThreads;
  lastSeen: LastSeen;
  /** The site's own agents' credentials, read once and kept; revoked through it. */
  credentials: CredentialCache;
  metrics: Metrics;
  startedAt: number;
  /** The settings in force; `PATCH /v1/settings` replaces them. */
  settings: SiteSettings;
  summarizer: SummarizerThread;
  /** Runs `POST /v1/query` statements in worker threads. */
  queries: QueryRunner;
  /** Creates disabled rules for widely installed programs. */
  autoRules: AutoRules;
  /** Brings the figures of licence positions up to date. */
  licences: LicenceRefreshTask;
  /**
   * Per-peer request limits (`syncRequestsPerMinute`, `enrollRequestsPerMinute`,
   * `unauthenticatedRequestsPerMinute`).
   */
  limits: RateLimits;
  /** Refused requests, repeats collapsed, and tokens created or revoked over the API. */
  audit: AuditLog;
  /** The version of the rules the site's agents follow, and their waits for it to change. */
  rulesVersion: RulesVersion;
}
