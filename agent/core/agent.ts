/**
 * The agent: polls processes, records sessions of the programs its rules
 * name, writes them into usage documents and syncs those with its site.
 *
 * Two loops run side by side, each never overlapping itself. The poll loop
 * (default every second) records sessions in the agent's database and never
 * waits for the network. The sync
 * loop flushes sessions into documents and syncs: every `syncInterval`, a few
 * seconds after sessions start or end, and, while the site is away, with
 * exponential backoff. Rules come from the local replica, so an agent that
 * starts offline meters with the rules it last received. A third loop takes
 * the software inventory (at start, daily, and when installed software
 * changes) and hands it to the sync loop, which alone writes documents.
 *
 * Everything it reads of the computer comes through the {@linkcode AgentPlatform}
 * it is given, so this file runs unchanged on every platform.
 *
 * @module
 */
import { ClockCheck } from "./clock_check.ts";
import { isContentRefusal, RefusedDocuments } from "./refused_documents.ts";
import type { Client } from "../../store/db.ts";
import { parseDocId } from "../../model/doc_id.ts";
import { DocStore } from "../../store/doc_store.ts";
import { DocCache } from "../../store/doc_cache.ts";
import { log } from "../../lib/log.ts";
import { fetchTrusting } from "../../lib/trusted_fetch.ts";
import { Mutex } from "../../lib/mutex.ts";
import { Backoff } from "../../lib/backoff.ts";
import { SyncClient, SyncError, type SyncOutcome, type SyncTarget } from "../../sync/mod.ts";
import { SyncStateStore } from "../../store/sync_state_store.ts";
import { RepeatingTask } from "../../lib/repeating_task.ts";
import { openAgentDatabase } from "../agent_db.ts";
import { type Clock, systemClock } from "../../lib/clock.ts";
import { enroll, type Enrolment, loadEnrolment, saveEnrolment } from "./enrolment.ts";
import { writeFacts } from "./facts_writer.ts";
import type { AgentPlatform } from "./platform.ts";
import { readRules } from "./rules_replica.ts";
import { type PollResult, SessionRecorder } from "./session_recorder.ts";
import { ExecutableHashes } from "./inventory/executable_hashes.ts";
import { collectInventory, type Inventory } from "./inventory/inventory_collector.ts";
import { InventorySchedule } from "./inventory/inventory_schedule.ts";
import { InventoryVersions } from "./inventory/inventory_versions.ts";
import { readInventory, writeInventory } from "./inventory/inventory_writer.ts";
import { applyRetention } from "./usage_retention.ts";
import { UsageWriter } from "./usage_writer.ts";
import { agentSyncTargets } from "./sync_targets.ts";
import { RulesWatch } from "./rules_watch.ts";
import { releaseNativeMemory } from "../../lib/release_native_memory.ts";

/** How often the poll loop hands freed native memory back to the system. */
const RELEASE_NATIVE_MEMORY_MS = 10_000;
/**
 * Stored bytes of the documents kept loaded between syncs: today's usage,
 * and the rules. A busy computer's day is well under this; a larger one is
 * still kept, alone.
 */
const KEPT_DOC_BYTES = 256 * 1024;

export interface AgentOptions {
  /** The agent's database file. */
  db: string;
  /** The site's base URL, e.g. `http://site:8080`. */
  site: string;
  /**
   * Sites (its site's ancestors) that take its usage while its own site is
   * away; the usage is still delivered to its own site when it is back.
   */
  fallbackSites?: string[];
  /** Needed once, to enrol; later runs use the stored credential. */
  enrollToken?: string;
  /** Where the token was to be read from, for the error when it is needed and missing. */
  enrollTokenFile?: string;
  pollIntervalMs?: number;
  /** Sync at least this often; by default when the site says (five minutes if it says nothing). */
  syncIntervalMs?: number;
  /** How long after sessions start or end the agent syncs them. */
  syncDelayMs?: number;
  /** Days a usage document the site holds is kept locally. */
  keepDays?: number;
  /** The most unsent usage kept; beyond it the oldest days are dropped. */
  maxUnsentBytes?: number;
  factsIntervalMs?: number;
  /** How often the software inventory is taken when nothing changes (default a day). */
  inventoryIntervalMs?: number;
  /** How often the package databases are checked for changes (default 10 s). */
  inventoryCheckMs?: number;
  /** The most bytes of executables one inventory run reads to hash them (default 256 MB). */
  inventoryHashBytes?: number;
  /** This computer's processes, versions, hashes, inventory and facts. */
  platform: AgentPlatform;
  /** What due times are read from; the computer's clock unless a test says. */
  clock?: Clock;
  /** A PEM file of the CA that signed the site's certificate (a private CA). */
  caFile?: string;
  fetch?: typeof fetch;
}

/** The site's name in the agent's sync states. */
const SITE_PEER = "site";
/** The sync interval when neither the agent's settings nor its site say. */
const DEFAULT_SYNC_INTERVAL_MS = 300_000;
const ANNOUNCE_ALL_INTERVAL_MS = 3_600_000;

export class Agent {
  readonly #o:
    & Required<
      Omit<
        AgentOptions,
        "enrollToken" | "enrollTokenFile" | "fetch" | "fallbackSites" | "caFile" | "syncIntervalMs"
      >
    >
    & AgentOptions;
  readonly #db: Client;
  readonly #docs: DocStore;
  /** Documents every flush and sync uses, loaded once rather than at each. */
  readonly #keptDocs: DocCache;
  readonly #states: SyncStateStore;
  readonly #recorder: SessionRecorder;
  readonly #writer: UsageWriter;
  /** Serialises the recorder, the writer and retention on the sessions and documents. */
  readonly #lock = new Mutex();
  readonly #backoff: Backoff;
  readonly #inventorySchedule: InventorySchedule;
  readonly #inventoryVersions = new InventoryVersions();
  readonly #clockCheck = new ClockCheck();
  readonly #refused = new RefusedDocuments();
  /** Taken by the inventory loop, written into the document by the next sync cycle. */
  #pendingInventory: Inventory | undefined;
  #enrolment: Enrolment | undefined;
  #syncClient: SyncClient | undefined;
  readonly #fallbackClients = new Map<string, SyncClient>();
  readonly #fetch: typeof fetch;
  readonly #pollLoop: RepeatingTask;
  /** Waits for new rules between syncs; started once enrolled. */
  #rulesWatch: RulesWatch | undefined;
  /** When the site last said to sync next with nothing new. */
  #siteIntervalMs: number | undefined;
  #pollStarted = 0;
  #syncTimer: ReturnType<typeof setTimeout> | undefined;
  #nextSyncAt = 0;
  /** A timed sync cycle is under way, and whether new usage was recorded meanwhile. */
  #cycleRunning = false;
  #newsMeanwhile = false;
  #backingOff = false;
  #factsDueAt = 0;
  #announceDueAt = 0;
  #polling: Promise<unknown> = Promise.resolve();
  #syncing: Promise<unknown> = Promise.resolve();
  #stopped = false;
  #releasedAt = 0;
  lastPoll: PollResult | undefined;
  lastSync: SyncOutcome | undefined;

  private constructor(options: AgentOptions, db: Client) {
    this.#o = {
      pollIntervalMs: 1_000,
      syncDelayMs: 5_000,
      keepDays: 2,
      maxUnsentBytes: 100 * 1024 * 1024,
      factsIntervalMs: 3_600_000,
      inventoryIntervalMs: 86_400_000,
      inventoryCheckMs: 10_000,
      inventoryHashBytes: 256 * 1024 * 1024,
      clock: systemClock,
      ...options,
    };
    // Retry an absent site at most every five sync intervals (five minutes at most).
    const interval = options.syncIntervalMs ?? DEFAULT_SYNC_INTERVAL_MS;
    this.#backoff = new Backoff(1_000, Math.min(300_000, 5 * interval));
    this.#db = db;
    this.#fetch = options.fetch ?? fetchTrusting(options.caFile);
    this.#docs = new DocStore(db);
    this.#keptDocs = new DocCache(this.#docs, 16, () => undefined, KEPT_DOC_BYTES);
    this.#states = new SyncStateStore(db);
    const lock = this.#lock;
    const { platform, clock } = this.#o;
    this.#recorder = new SessionRecorder({
      db,
      source: platform.processes,
      lock,
      clock,
      hashOf: (p) => platform.hasher.sha256(p),
      versionOf: async (exe) =>
        await platform.versions.versionOf(exe) ?? this.#inventoryVersions.versionOf(exe),
    });
    this.#writer = new UsageWriter({ db, docs: this.#docs, cache: this.#keptDocs, lock });
    const hashes = new ExecutableHashes(db, this.#o.inventoryHashBytes);
    const sources = platform.inventorySources;
    this.#inventorySchedule = new InventorySchedule({
      intervalMs: this.#o.inventoryIntervalMs,
      checkMs: this.#o.inventoryCheckMs,
      signature: () => platform.softwareSignature(),
      clock,
      run: (reason) =>
        this.#takeInventory(
          reason,
          () => collectInventory(sources, hashes, platform.originalNameOf),
        ),
    });
    // Every poll interval from the start of the last poll, not its end.
    this.#pollLoop = new RepeatingTask(
      "poll",
      () => Math.max(0, this.#o.pollIntervalMs - (clock.now() - this.#pollStarted)),
      () => this.#pollOnce(),
    );
  }

  /** Opens the agent's database; fails at once if it can never enrol. */
  static async open(options: AgentOptions): Promise<Agent> {
    const db = await openAgentDatabase(options.db);
    const agent = new Agent(options, db);
    agent.#enrolment = await loadEnrolment(db);
    if (!agent.#enrolment && !options.enrollToken) {
      db.close();
      throw new Error(notEnrolled(options.enrollTokenFile));
    }
    await agent.#recorder.load();
    if (agent.#enrolment) {
      await agent.#loadRules();
      agent.#inventoryVersions.update(await readInventory(agent.#docs, agent.#enrolment.clientId));
    }
    return agent;
  }

  get clientId(): string | undefined {
    return this.#enrolment?.clientId;
  }

  /** Starts both loops. */
  start(): void {
    log.info("agent started", { site: this.#o.site, clientId: this.clientId, db: this.#o.db });
    this.#pollLoop.start(0);
    this.#scheduleSync(0);
    this.#inventorySchedule.start();
  }

  /** Stops the loops after the work under way, writes what is pending, closes the database. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#syncTimer);
    this.#rulesWatch?.stop();
    await Promise.all([
      this.#pollLoop.stop(),
      this.#polling.catch(() => {}),
      this.#syncing.catch(() => {}),
      this.#inventorySchedule.stop(),
    ]);
    try {
      if (this.#enrolment) {
        await this.#writer.flush(this.#enrolment.clientId, this.#enrolment.actor);
      }
    } catch (error) {
      // A full disk must not keep the agent from stopping cleanly; what was
      // stored is safe, and the next start carries on from it.
      log.error("could not store the last usage before stopping", { error });
    }
    this.#db.close();
    await this.#o.platform.close?.();
    log.info("agent stopped", { clientId: this.clientId });
  }

  /** Runs one sync cycle now (flush, sync, retention); for tests and tools. */
  syncNow(): Promise<SyncOutcome> {
    // Nothing holds a kept document between cycles: what left them goes now.
    const result = this.#syncing.catch(() => {}).then(() => this.#syncCycle())
      .finally(() => this.#keptDocs.freeReleased());
    this.#syncing = result;
    return result;
  }

  /** Polls processes once now. */
  pollNow(): Promise<PollResult> {
    const result = this.#polling.catch(() => {}).then(() => this.#recorder.poll());
    this.#polling = result;
    return result;
  }

  /** One turn of the poll loop: a poll, and a sync soon if sessions started or ended. */
  async #pollOnce(): Promise<void> {
    this.#pollStarted = this.#o.clock.now();
    this.lastPoll = await this.pollNow();
    if (this.lastPoll.started + this.lastPoll.ended > 0) this.#syncSoon();
    // Polling reads /proc for every process; what native code freed goes back
    // every ten seconds (a few ms each time, 0.04% of a core).
    if (this.#pollStarted - this.#releasedAt >= RELEASE_NATIVE_MEMORY_MS) {
      this.#releasedAt = this.#pollStarted;
      releaseNativeMemory();
    }
  }

  /** New usage: sync after the short delay, unless the site is away. */
  #syncSoon(): void {
    if (this.#backingOff) return;
    // A cycle under way may have flushed before this news: the next comes soon too.
    if (this.#cycleRunning) {
      this.#newsMeanwhile = true;
      return;
    }
    const at = this.#o.clock.now() + this.#o.syncDelayMs;
    if (at < this.#nextSyncAt) this.#scheduleSync(this.#o.syncDelayMs);
  }

  #scheduleSync(delay: number): void {
    if (this.#stopped) return;
    clearTimeout(this.#syncTimer);
    this.#nextSyncAt = this.#o.clock.now() + delay;
    this.#syncTimer = setTimeout(async () => {
      this.#cycleRunning = true;
      this.#newsMeanwhile = false;
      try {
        this.lastSync = await this.syncNow();
        this.#backoff.succeed();
        this.#backingOff = false;
        this.#cycleRunning = false;
        this.#scheduleSync(this.#interval());
        if (this.#newsMeanwhile) this.#syncSoon();
      } catch (error) {
        this.#cycleRunning = false;
        if (await this.#syncFallback(error)) this.#scheduleSync(this.#interval());
        else this.#scheduleSync(this.#afterFailure(error));
      }
    }, delay);
  }

  /**
   * Its own site is away: leaves its usage at the first fallback site that
   * answers. Only usage goes (no inventory, no rules), and nothing is
   * deleted for it: retention waits for its own site to confirm.
   */
  async #syncFallback(error: unknown): Promise<boolean> {
    const enrolment = this.#enrolment;
    const fallbacks = this.#o.fallbackSites ?? [];
    if (!(error instanceof SyncError) || !error.retryable || !enrolment) return false;
    const usage = (await this.#docs.list(`usage/${enrolment.clientId}/`))
      .map((d): SyncTarget => ({ docId: d.docId, access: "write" }));
    for (const url of fallbacks) {
      try {
        const outcome = await this.#fallbackClient(enrolment, url).sync(usage);
        log.warn("site unreachable; usage left at a fallback site", {
          site: this.#o.site,
          fallback: url,
          documents: usage.length,
          bytesSent: outcome.bytesSent,
        });
        return true;
      } catch (fallbackError) {
        log.debug("fallback site unreachable too", { fallback: url, error: fallbackError });
      }
    }
    return false;
  }

  #fallbackClient(enrolment: Enrolment, url: string): SyncClient {
    let client = this.#fallbackClients.get(url);
    if (!client) {
      client = new SyncClient({
        url: new URL("v1/sync", url.endsWith("/") ? url : url + "/").href,
        authorization: () => `Bearer ${enrolment.clientId}.${enrolment.secret}`,
        db: this.#db,
        docs: this.#docs,
        states: this.#states,
        peer: `fallback:${url}`,
        fetch: this.#fetch,
      });
      this.#fallbackClients.set(url, client);
    }
    return client;
  }

  /** Until the next timed sync: the agent's setting, else what the site said last. */
  #interval(): number {
    return this.#o.syncIntervalMs ?? this.#siteIntervalMs ?? DEFAULT_SYNC_INTERVAL_MS;
  }

  /** Waits for new rules between syncs, when the site gives their version. */
  #watchRules(enrolment: Enrolment, outcome: SyncOutcome): void {
    if (outcome.syncAfterSeconds !== undefined) {
      this.#siteIntervalMs = outcome.syncAfterSeconds * 1000;
    }
    this.#rulesWatch ??= new RulesWatch({
      site: this.#o.site,
      authorization: () => `Bearer ${enrolment.clientId}.${enrolment.secret}`,
      onChanged: () => this.#syncSoon(),
      fetch: this.#fetch,
    });
    if (!this.#stopped) this.#rulesWatch.follow(outcome.rulesVersion);
  }

  /** Logs a failed sync and says when to try again. */
  #afterFailure(error: unknown): number {
    if (!(error instanceof SyncError)) {
      log.error("sync failed", { error });
      return this.#interval();
    }
    if (!error.retryable) {
      log.error("sync refused by the site", { status: error.status, error: error.message });
      return this.#interval();
    }
    this.#backingOff = true;
    const wait = Math.max(error.retryAfterMs ?? 0, this.#backoff.fail());
    log.warn("site unreachable; will retry", {
      error: error.message,
      retryInSeconds: Math.round(wait / 1000),
      failures: this.#backoff.failures,
    });
    return wait;
  }

  async #syncCycle(): Promise<SyncOutcome> {
    const enrolment = await this.#ensureEnrolled();
    await this.#writer.flush(enrolment.clientId, enrolment.actor);
    await this.#writeFactsIfDue(enrolment);
    await this.#writePendingInventory(enrolment);
    // Once an hour every kept document is announced, not only unsent ones, so
    // a site restored from an older backup gets back what the agent still has.
    const announceAll = this.#o.clock.now() >= this.#announceDueAt;
    const targets = this.#refused.offered(await agentSyncTargets(this.#docs, enrolment));
    const client = this.#client(enrolment);
    let outcome: SyncOutcome;
    try {
      outcome = await client.sync(targets, { announceAll });
    } catch (error) {
      if (!isContentRefusal(error)) throw error;
      outcome = await this.#refused.syncIsolating(client, targets);
    }
    if (announceAll) this.#announceDueAt = this.#o.clock.now() + ANNOUNCE_ALL_INTERVAL_MS;
    this.#watchRules(enrolment, outcome);
    this.#clockCheck.check(outcome.serverNow, this.#o.clock.now());
    if (outcome.read.length > 0 && outcome.read.join() !== enrolment.read.join()) {
      enrolment.read = outcome.read;
      await saveEnrolment(this.#db, enrolment);
      await this.#loadRules();
    } else if (outcome.changed.some((docId) => parseDocId(docId)?.kind === "rules")) {
      await this.#loadRules();
    }
    const retention = await applyRetention({
      db: this.#db,
      docs: this.#docs,
      states: this.#states,
      peer: SITE_PEER,
      keepDays: this.#o.keepDays,
      maxUnsentBytes: this.#o.maxUnsentBytes,
      lock: this.#lock,
    }, enrolment.clientId);
    for (const docId of retention.deleted) this.#keptDocs.delete(docId);
    log.debug("synced", { ...outcome, deleted: retention.deleted.length });
    return outcome;
  }

  async #ensureEnrolled(): Promise<Enrolment> {
    if (this.#enrolment) return this.#enrolment;
    const enrolment = await enroll(
      this.#o.site,
      this.#o.enrollToken!,
      Deno.hostname(),
      this.#fetch,
    );
    await saveEnrolment(this.#db, enrolment);
    this.#enrolment = enrolment;
    log.info("agent enrolled", { clientId: enrolment.clientId, site: enrolment.siteCode });
    return enrolment;
  }

  #client(enrolment: Enrolment): SyncClient {
    this.#syncClient ??= new SyncClient({
      url: new URL("v1/sync", this.#o.site.endsWith("/") ? this.#o.site : this.#o.site + "/").href,
      authorization: () => `Bearer ${enrolment.clientId}.${enrolment.secret}`,
      db: this.#db,
      docs: this.#docs,
      states: this.#states,
      peer: SITE_PEER,
      fetch: this.#fetch,
      cache: this.#keptDocs,
    });
    return this.#syncClient;
  }

  async #writeFactsIfDue(enrolment: Enrolment): Promise<void> {
    if (this.#o.clock.now() < this.#factsDueAt) return;
    await writeFacts(
      this.#docs,
      enrolment.clientId,
      enrolment.actor,
      await this.#o.platform.facts(),
    );
    this.#factsDueAt = this.#o.clock.now() + this.#o.factsIntervalMs;
  }

  /** Takes the inventory and has the sync loop deliver it soon; resolves to the pending hashes. */
  async #takeInventory(reason: string, collect: () => Promise<Inventory>): Promise<number> {
    const started = performance.now();
    const inventory = await collect();
    if (this.#inventoryVersions.update(inventory.products, inventory.failedSources)) {
      this.#recorder.judgeAgain();
    }
    this.#pendingInventory = inventory;
    log.info("inventory taken", {
      reason,
      products: inventory.products.size,
      problems: inventory.problems.length,
      filesHashed: inventory.filesHashed,
      pendingHashes: inventory.pendingHashes,
      ms: Math.round(performance.now() - started),
    });
    releaseNativeMemory();
    this.#syncSoon();
    return inventory.pendingHashes;
  }

  async #writePendingInventory(enrolment: Enrolment): Promise<void> {
    const inventory = this.#pendingInventory;
    if (!inventory) return;
    const written = await writeInventory(
      this.#docs,
      enrolment.clientId,
      enrolment.actor,
      inventory,
    );
    // Kept until written: a failed write is tried again at the next sync.
    if (this.#pendingInventory === inventory) this.#pendingInventory = undefined;
    if (written.put + written.deleted > 0) log.info("inventory changed", { ...written });
  }

  async #loadRules(): Promise<void> {
    const rules = await readRules(
      this.#docs,
      this.#enrolment?.read ?? [],
      this.#enrolment?.siteCode ?? "",
    );
    this.#recorder.setRules(rules);
    log.info("rules loaded", {
      rules: rules.length,
      enabled: rules.filter((r) => r.enabled).length,
    });
  }
}

/** Why an agent that has never enrolled cannot start, and what to give it. */
function notEnrolled(tokenFile: string | undefined): string {
  const missing = tokenFile === undefined
    ? ""
    : ` and its enroll token file ${tokenFile} is missing`;
  return `this agent has not enrolled yet${missing}: give --enroll-token-file FILE (or ` +
    "--enroll-token, env METER_ENROLL_TOKEN, or enrollTokenFile in --config) with a token " +
    "from 'meter token create --role enroll'";
}
