/**
 * Running a site: opens its database, serves the app with `Deno.serve`, and
 * runs its background work (flushing last-sync times and refusal counts).
 * `stop()` finishes the requests under way, flushes and closes the database.
 *
 * @module
 */
import { shownDatabaseUrl } from "../sync/db.ts";
import { log } from "../sync/log.ts";
import { createApp } from "./app.ts";
import { ParentLink } from "./hierarchy/parent_link.ts";
import { fetchTrusting } from "../sync/trusted_fetch.ts";
import { runMaintenance } from "./maintenance.ts";
import { RepeatingTask } from "./repeating_task.ts";
import { closeSite, openSite, type SiteContext, type SiteOptions } from "./site_context.ts";

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
 * create automatic rules when that is on, and delete what retention no
 * longer keeps. (Documents that leave the hot
 * cache are freed by the sync handler: `DocCache.freeReleased`.)
 */
function backgroundWork(site: SiteContext): RepeatingTask[] {
  return [
    new RepeatingTask("recording last sync times", () => 2_000, () => site.lastSeen.flush()),
    new RepeatingTask("counting repeated refusals", () => 5_000, () => site.audit.flush()),
    new RepeatingTask(
      "summarising",
      () => site.settings.summarizeIntervalSeconds * 1000,
      () => site.summarizer.run(),
    ),
    new RepeatingTask("automatic rules", () => 3_600_000, () => site.autoRules.runIfOn()),
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

export async function startSite(options: SiteServerOptions): Promise<RunningSite> {
  const context = await openSite(options);
  const parent = options.parent ? await parentSync(context, options) : undefined;
  const app = createApp(context);
  const hostname = options.hostname ?? "0.0.0.0";
  const tls = options.cert && options.key
    ? { cert: await Deno.readTextFile(options.cert), key: await Deno.readTextFile(options.key) }
    : undefined;
  const server = Deno.serve(
    { port: options.port, hostname, onListen: () => {}, ...tls },
    app.fetch,
  );
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
      await server.shutdown();
      await Promise.all(background.map((task) => task.stop()));
      await context.lastSeen.flush();
      await context.audit.flush();
      closeSite(context);
      log.info("site stopped", { site: context.code });
    },
  };
}
