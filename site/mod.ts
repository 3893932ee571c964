/**
 * The site, as the command line and the benchmarks use it: starting one (or
 * opening its database and services without serving them), its
 * configuration and settings, the tokens an administrator makes offline, and
 * the parts the benchmarks time on their own (the summariser, materialising
 * usage, publishing summaries to a parent, refreshing licence positions, the
 * query process), and the
 * owners' statements the benchmarks fill a database with. The reports'
 * catalog has a lighter surface of its own, `reports/mod.ts`, so that
 * `meter report --help` loads no storage.
 *
 * @module
 */
export {
  closeSite,
  openSite,
  type RunningSite,
  type SiteOptions,
  type SiteServerOptions,
  startSite,
} from "./site_server.ts";
export type { SiteContext } from "./site_context.ts";
export { loadSiteConfig, type SiteConfig, siteConfigSchema } from "./site_config.ts";
export { openSiteDatabase } from "./site_db.ts";
export {
  DEFAULT_SETTINGS,
  saveSettings,
  type SiteSettings,
  siteSettingsSchema,
} from "./site_settings.ts";
export {
  createToken,
  listedToken,
  listTokens,
  type NewToken,
  revokeToken,
  type TokenOptions,
  type TokenRole,
} from "./access/tokens.ts";
export { serveQueries } from "./query/query_process.ts";
export { QUERY_MEMORY_BYTES } from "./query/query_protocol.ts";
export { Summarizer, type SummarizerOptions, type SummaryRun } from "./summaries/summarizer.ts";
export { SummarizerThread } from "./summaries/summarizer_thread.ts";
export { loadSummaryState, summaryStateStatements } from "./summaries/summary_state.ts";
export { usageStatements } from "./usage/usage_materializer.ts";
export {
  type ClientRowValues,
  generatedClientsStatement,
  insertClientRowsStatement,
} from "./clients/clients_table.ts";
export {
  insertSessionRowsStatements,
  SESSION_ROW_COLUMNS,
  type SessionRowValues,
  STORED_SESSION_COLUMNS,
} from "./usage/sessions_table.ts";
export { ParentLink, type ParentLinkOptions } from "./hierarchy/parent_link.ts";
export { type LicenceRefresh, refreshLicences } from "./licences/licence_refresher.ts";
export { publishSummaries } from "./hierarchy/summary_publisher.ts";
export {
  findReport,
  isRequired,
  type Report,
  reportColumns,
  reportParameters,
  REPORTS,
} from "./reports/mod.ts";
export { SITE_SCHEMA_VERSION } from "./site_db.ts";
export { SITE_V8_FLAGS } from "./site_v8_flags.ts";
export { type BackupOptions, type BackupResult, backupSiteDatabase } from "./backup/site_backup.ts";
export {
  type RestoreOptions,
  type RestoreResult,
  restoreSiteDatabase,
} from "./backup/site_restore.ts";
export type { BackupProgress } from "./backup/backup_contents.ts";
