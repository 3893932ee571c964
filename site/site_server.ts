/**
 * Running a site: opens its database and puts its services together (the one
 * place they are wired), serves the app (`http/lasting_server.ts`), and runs its
 * background work (flushing last-sync times and refusal counts).
 * `stop()` finishes the requests under way, flushes and closes the database.
 *
 * @module
 */
import { shownDatabaseUrl } from "../store/db.ts";
import { log } from "../lib/log.ts";
import { createApp } from "./app.ts";
import { ParentLink } from "./hierarchy/parent_link.ts";
import { fetchTrusting } from "../lib/trusted_fetch.ts";
import { releaseNativeMemory } from "../lib/release_native_memory.ts";
import { runMaintenance } from "./usage/retention.ts";
import { RepeatingTask } from "../lib/repeating_task.ts";
import type { SiteContext } from "./site_context.ts";
import { licencesDocId, rulesDocId } from "../model/doc_id.ts";
import { DocStore } from "../store/doc_store.ts";
import { Mutex } from "../lib/mutex.ts";
import { newActorId } from "../lib/secret.ts";
import { SyncStateStore } from "../store/sync_state_store.ts";
import type { Store } from "../store/store.ts";
import { DEFAULT_CACHE_BYTES, DEFAULT_CACHE_DOCS, DocCache } from "../store/doc_cache.ts";
import { KeyValueTable } from "../store/key_value_table.ts";
import { CredentialCache } from "./clients/credential_cache.ts";
import { LastSeen } from "./clients/last_seen.ts";
import { RulesVersion } from "./rules/rules_version.ts";
import { Metrics } from "./http/metrics.ts";
import { openSiteDatabase } from "./site_db.ts";
import { followedRules } from "../sync/mod.ts";
import { SyncThreads } from "./sync_threads/sync_threads.ts";
import { SummarizerThread } from "./summaries/summarizer_thread.ts";
import { selfAndAncestorsStatements } from "./hierarchy/known_sites.ts";
import { AutoRules } from "./inventory/auto_rules.ts";
import { LicenceRefreshTask } from "./licences/licence_refresh_task.ts";
import { WebhookSender } from "./licences/webhook_sender.ts";
import { RateLimits } from "./http/rate_limits.ts";
import { AuditLog } from "./access/audit_log.ts";
import { QueryRunner } from "./query/query_runner.ts";
import { DEFAULT_SETTINGS, loadSettings, type SiteSettings } from "./site_settings.ts";
import { LastingServer } from "./http/lasting_server.ts";

export interface SiteOptions {
  /** libSQL URL or file path. */
  db: string;
  dbAuthToken?: string;
  code: string;
  /** SQLite's page cache of the site's connection, in MiB (`DEFAULT_SITE_CACHE_MIB`). */
  dbCacheMiB?: number;
  docCacheSize?: number;
  /** Threads that answer syncs (`DEFAULT_SYNC_THREADS`; 0: the site's thread). */
  syncThreads?: number;
  /** Defaults for the settings an administrator can change later. */
  settings?: Partial<SiteSettings>;
}

/**
 * Opens the site's database and binds it to its code: a database made for
 * one site refuses to start as another.
 */
export async function openSite(options: SiteOptions): Promise<SiteContext> {
  const db = await openSiteDatabase(options.db, options.dbAuthToken, options.dbCacheMiB);
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
  // The documents this site edits load with its actor, so its changes are its own.
  const own = new Set([rulesDocId(options.code), licencesDocId(options.code)]);
  const cache = new DocCache(
    docs,
    options.docCacheSize,
    (docId) => own.has(docId) ? actor : undefined,
    DEFAULT_CACHE_BYTES,
    { admitOnReuseWithin: ADMIT_ON_REUSE_WITHIN },
  );
  const store: Store = { db, docs, states, cache, lock: new Mutex(), code: options.code, actor };
  const context: SiteContext = {
    ...store,
    sync: new SyncThreads({
      store,
      threads: options.syncThreads,
      docCacheSize: options.docCacheSize ?? DEFAULT_CACHE_DOCS,
      admitOnReuseWithin: ADMIT_ON_REUSE_WITHIN,
      // About a second of writes at the measured rate: more waiting only holds connections.
      maxQueued: 256,
    }),
    lastSeen: new LastSeen(db),
    credentials: new CredentialCache(db),
    metrics: new Metrics(),
    startedAt: Date.now(),
    settings: await loadSettings(db, { ...DEFAULT_SETTINGS, ...options.settings }),
    summarizer: new SummarizerThread({ db, lock: store.lock, settings: () => context.settings }),
    queries: new QueryRunner(db),
    autoRules: new AutoRules(store, () => context.settings),
    // The ancestors as the parent link last learnt them.
    licences: new LicenceRefreshTask(store, () => context.ancestors, () => context.settings),
    limits: new RateLimits(),
    audit: new AuditLog(db),
    ancestors,
    rulesVersion: new RulesVersion(db, () => followedRules(options.code, context.ancestors)),
  };
  return context;
}

/**
 * Documents used since, within which a document must be used again to be
 * cached (`DocCacheOptions`): about 25 s of syncs at 50,000 agents, and a
 * 2,000-agent fleet syncing every 5 to 15 s uses each document again well
 * within it.
 */
const ADMIT_ON_REUSE_WITHIN = 8_000;

/** Stops the site's workers and closes its database. */
export function closeSite(site: SiteContext): void {
  site.rulesVersion.close();
  site.sync.close();
  site.queries.close();
  site.summarizer.close();
  site.db.close();
}

export interface SiteServerOptions extends SiteOptions {
  port: number;
  hostname?: string;
  /** The parent site's URL: this site is a child in a hierarchy. */
  parent?: string;
  /** A `site` token of the parent, to register the first time. */
  parentToken?: string;
  parentIntervalSeconds?: number;
  /** PEM files: with both, the site serves HTTPS. */
  cert?: string;
  key?: string;
  /** A PEM file of the CA that signed the parent's certificate (a private CA). */
  parentCa?: string;
}

export interface RunningSite {
  context: SiteContext;
  /** e.g. `http://127.0.0.1:8080` */
  url: string;
  port: number;
  stop(): Promise<void>;
}

/**
 * What a site does on its own: record last-sync times and the counts of
 * repeated refusals, summarise new usage (and refresh running sessions),
 * create automatic rules when that is on, refresh licence positions and send
 * their alerts, and
 * delete what retention no
 * longer keeps. (Documents that leave the hot
 * cache are freed by the sync handler: `DocCache.freeReleased`.)
 */
function backgroundWork(site: SiteContext): RepeatingTask[] {
  const webhook = new WebhookSender({
    db: site.db,
    code: site.code,
    write: (statements) => site.lock.run(() => site.db.batch(statements, "write")),
    secret: () => site.settings.alertWebhookSecret,
  });
  return [
    new RepeatingTask("recording last sync times", () => 2_000, () => site.lastSeen.flush()),
    new RepeatingTask("counting repeated refusals", () => 5_000, () => site.audit.flush()),
    new RepeatingTask(
      "summarising",
      () => site.settings.summarizeIntervalSeconds * 1000,
      () => site.summarizer.run(),
    ),
    new RepeatingTask("automatic rules", () => 3_600_000, () => site.autoRules.runIfOn()),
    new RepeatingTask(
      "refreshing licence positions",
      () => site.settings.licenceRefreshSeconds * 1000,
      () => site.licences.refresh(),
    ),
    new RepeatingTask("sending licence alerts", () => 5_000, () => webhook.deliverDue()),
    // Connections come and go by the thousand on a large site; glibc keeps what they
    // freed in its arenas unless asked to give it back (a few ms a call).
    new RepeatingTask(
      "releasing freed memory",
      () => 30_000,
      () => Promise.resolve(releaseNativeMemory()),
    ),
    new RepeatingTask("retention", () => 3_600_000, async () => {
      const deleted = await runMaintenance(
        site.db,
        site.lock,
        site.settings,
        Date.now(),
        (docId) => site.cache.delete(docId),
      );
      if (deleted.rawSessions + deleted.summaryRows + deleted.summaryDocs > 0) {
        log.info("retention applied", { ...deleted });
      }
    }),
  ];
}

/** The child's link to its parent, synced every interval from the start. */
async function parentSync(site: SiteContext, options: SiteServerOptions): Promise<RepeatingTask> {
  const link = new ParentLink(site, {
    url: options.parent!,
    token: options.parentToken,
    fetch: fetchTrusting(options.parentCa),
  });
  try {
    await link.check();
  } catch (error) {
    site.db.close();
    throw error;
  }
  const task = new RepeatingTask(
    "syncing with the parent",
    () => (options.parentIntervalSeconds ?? 60) * 1000,
    () => link.sync(),
  );
  return task;
}

/**
 * Connections the kernel may hold for the site before it accepts them. The
 * site accepts on the thread that answers requests, so connections queue
 * while it works; 50,000 agents open about 1,500 a second (each rule wait
 * not held is a new one), so a pause of a third of a second fills Deno's
 * default of 511: in a 600 s run it overflowed 3,972 times. Each time the
 * kernel drops a connection, which the agent's system tries again a second
 * or more later: syncs took seconds while health checks, on a connection
 * kept open, took 25 ms. Linux caps it at `net.core.somaxconn` (4,096 by
 * default since 5.4).
 */
const LISTEN_BACKLOG = 4096;

/**
 * The port is taken before the database is opened, so that a port in use
 * stops the start before it has created or changed anything. Requests that
 * come meanwhile get 503 with `Retry-After`, which agents honour.
 */
function listen(
  options: SiteServerOptions,
  tls: { cert: string; key: string } | undefined,
): { server: LastingServer; serve(handler: Deno.ServeHandler): void } {
  const hostname = options.hostname ?? "0.0.0.0";
  let handler: Deno.ServeHandler = () =>
    Response.json({ error: { code: "starting", message: "the site is starting" } }, {
      status: 503,
      headers: { "retry-after": "1" },
    });
  try {
    const server = new LastingServer(
      { port: options.port, hostname, onListen: () => {}, tcpBacklog: LISTEN_BACKLOG, ...tls },
      (request, info) => handler(request, info),
    );
    return { server, serve: (app) => handler = app };
  } catch (error) {
    throw cannotListen(`${hostname}:${options.port}`, error);
  }
}

function cannotListen(address: string, error: unknown): Error {
  if (error instanceof Deno.errors.AddrInUse) {
    return new Error(
      `cannot listen on ${address}: the port is in use (is a site already running?); ` +
        `stop what uses it or give another --port`,
    );
  }
  if (error instanceof Deno.errors.PermissionDenied) {
    return new Error(
      `cannot listen on ${address}: ${(error as Error).message} ` +
        `(ports below 1024 need root or CAP_NET_BIND_SERVICE)`,
    );
  }
  return new Error(`cannot listen on ${address}: ${(error as Error).message}`);
}

export async function startSite(options: SiteServerOptions): Promise<RunningSite> {
  const tls = options.cert && options.key
    ? { cert: await Deno.readTextFile(options.cert), key: await Deno.readTextFile(options.key) }
    : undefined;
  const { server, serve } = listen(options, tls);
  let context: SiteContext;
  let parent: RepeatingTask | undefined;
  try {
    context = await openSite(options);
    parent = options.parent ? await parentSync(context, options) : undefined;
  } catch (error) {
    await server.shutdown();
    throw error;
  }
  serve(createApp(context).fetch);
  const hostname = options.hostname ?? "0.0.0.0";
  const port = server.addr.port;
  const shown = hostname === "0.0.0.0" ? "127.0.0.1" : hostname;
  const url = `${tls ? "https" : "http"}://${shown}:${port}`;
  const background = backgroundWork(context);
  for (const task of background) task.start();
  if (parent) {
    parent.start(0);
    background.push(parent);
  }
  log.info("site listening", { site: context.code, url, db: shownDatabaseUrl(options.db) });
  let stopped = false;
  return {
    context,
    url,
    port,
    async stop() {
      if (stopped) return;
      stopped = true;
      // Held rule waits would keep the shutdown waiting for up to a minute.
      context.rulesVersion.close();
      await server.shutdown();
      await Promise.all(background.map((task) => task.stop()));
      await context.lastSeen.flush();
      await context.audit.flush();
      closeSite(context);
      log.info("site stopped", { site: context.code });
    },
  };
}
