/**
 * Everything a running site's routes and services share, created once at
 * start-up by {@linkcode openSite}.
 *
 * @module
 */
import { type Client, shownDatabaseUrl } from "../sync/db.ts";
import { rulesDocId } from "../sync/doc_id.ts";
import { DocStore } from "../sync/doc_store.ts";
import { Mutex } from "../sync/mutex.ts";
import { newActorId } from "../sync/secret.ts";
import { SyncStateStore } from "../sync/sync_state_store.ts";
import { DocCache } from "./doc_cache.ts";
import { LastSeen } from "./last_seen.ts";
import { materialize } from "./materialize.ts";
import { Metrics } from "./metrics.ts";
import { openSiteDatabase } from "./site_db.ts";
import { KeyValueTable } from "../sync/key_value_table.ts";
import { SyncHandler } from "./sync_handler.ts";
import { SummarizerThread } from "./summaries/summarizer_thread.ts";
import { selfAndAncestorsStatements } from "./hierarchy/known_sites.ts";
import { AutoRules } from "./inventory/auto_rules.ts";
import { RateLimits } from "./rate_limits.ts";
import { AuditLog } from "./audit_log.ts";
import { QueryRunner } from "./query/query_runner.ts";
import { DEFAULT_SETTINGS, loadSettings, type SiteSettings } from "./site_settings.ts";

export interface SiteContext {
  db: Client;
  /** This site's code, e.g. `S01`. */
  code: string;
  /** The Automerge actor of this site's own documents. */
  actor: string;
  docs: DocStore;
  states: SyncStateStore;
  cache: DocCache;
  /** Serialises every change to stored documents. */
  lock: Mutex;
  sync: SyncHandler;
  lastSeen: LastSeen;
  metrics: Metrics;
  startedAt: number;
  /** The settings in force; `PATCH /v1/settings` replaces them. */
  settings: SiteSettings;
  summarizer: SummarizerThread;
  /** Runs `POST /v1/query` statements in worker threads. */
  queries: QueryRunner;
  /** Creates disabled rules for widely installed programs. */
  autoRules: AutoRules;
  /**
   * Per-peer request limits (`syncRequestsPerMinute`, `enrollRequestsPerMinute`,
   * `unauthenticatedRequestsPerMinute`).
   */
  limits: RateLimits;
  /** Refused requests, repeats collapsed, and tokens created or revoked over the API. */
  audit: AuditLog;
  /**
   * This site's ancestors, its parent first, up to the top of the hierarchy;
   * empty for a top site. Learnt from the parent, kept in `site_meta`.
   */
  ancestors: string[];
}

export interface SiteOptions {
  /** libSQL URL or file path. */
  db: string;
  dbAuthToken?: string;
  code: string;
  docCacheSize?: number;
  /** Defaults for the settings an administrator can change later. */
  settings?: Partial<SiteSettings>;
}

/**
 * Opens the site's database and binds it to its code: a database made for
 * one site refuses to start as another.
 */
export async function openSite(options: SiteOptions): Promise<SiteContext> {
  const db = await openSiteDatabase(options.db, options.dbAuthToken);
  const meta = new KeyValueTable(db, "site_meta");
  const storedCode = await meta.get("code");
  if (storedCode && storedCode !== options.code) {
    db.close();
    throw new Error(
      `the database ${
        shownDatabaseUrl(options.db)
      } belongs to site ${storedCode}, not ${options.code}; ` +
        `start with --code ${storedCode} or give another --db`,
    );
  }
  if (!storedCode) await meta.set("code", options.code);
  let actor = await meta.get("actor");
  if (!actor) {
    actor = newActorId();
    await meta.set("actor", actor);
  }
  const ancestors: string[] = JSON.parse(await meta.get("ancestors") ?? "[]");
  await db.batch(selfAndAncestorsStatements(options.code, actor, ancestors), "write");
  const docs = new DocStore(db);
  const states = new SyncStateStore(db);
  const ownRules = rulesDocId(options.code);
  const cache = new DocCache(
    docs,
    options.docCacheSize,
    (docId) => docId === ownRules ? actor : undefined,
  );
  const lock = new Mutex();
  const sync = new SyncHandler({ db, docs, states, cache, lock, materialize });
  const context: SiteContext = {
    db,
    code: options.code,
    actor,
    docs,
    states,
    cache,
    lock,
    sync,
    lastSeen: new LastSeen(db),
    metrics: new Metrics(),
    startedAt: Date.now(),
    settings: await loadSettings(db, { ...DEFAULT_SETTINGS, ...options.settings }),
    summarizer: new SummarizerThread({ db, lock, settings: () => context.settings }),
    queries: new QueryRunner(db),
    autoRules: new AutoRules(() => context),
    limits: new RateLimits(),
    audit: new AuditLog(db),
    ancestors,
  };
  return context;
}

/** Stops the site's workers and closes its database. */
export function closeSite(site: SiteContext): void {
  site.queries.close();
  site.summarizer.close();
  site.db.close();
}
