/**
 * A child site's link to its parent (`meter site --parent URL`):
 *
 * 1. **Registration**, once: with the parent's `site` token, the site sends
 *    its code and actor to `POST /v1/sites/register` and keeps the secret and
 *    its ancestors in `site_meta`. Later starts need no token.
 * 2. **Sync**, every interval, through `POST /v1/sites/sync` with the same
 *    sync client agents use: down come the rules and licences documents of
 *    its ancestors, read only; a changed one is materialised here (the rules
 *    marked `applyToChildSites`, every licence) and dropped from the
 *    document cache, so this site's agents and children get it at their next
 *    sync. Up go its
 *    `sites/<code>` document (the sites below it) and every summary
 *    document it holds: its own, written from its summaries just before
 *    (`summary_publisher.ts`), and those of the sites below, relayed as they
 *    came. The parent's answer also says which documents to follow, so a
 *    change of ancestors above reaches every level.
 *
 * While the parent is away the site keeps working with the rules it last
 * received; a failed sync is logged and tried again at the next interval.
 *
 * @module
 */
import { licencesDocId, parseDocId, rulesDocId, sitesDocId } from "../../model/doc_id.ts";
import { errorMessageOf } from "../../model/error_body.ts";
import { KeyValueTable } from "../../store/key_value_table.ts";
import { log } from "../../lib/log.ts";
import { SyncClient, SyncError, type SyncOutcome, type SyncTarget } from "../../sync/mod.ts";
import type { Store } from "../../store/store.ts";
import type { Lineage } from "./lineage.ts";
import { ancestorRulesStatements, strangerRulesStatement } from "./ancestor_rules.ts";
import {
  ancestorLicencesStatements,
  strangerLicencesStatement,
} from "../licences/licences_materializer.ts";
import { selfAndAncestorsStatements, writeOwnSitesDoc } from "./known_sites.ts";
import { publishSummaries } from "./summary_publisher.ts";
import { publishCredentials } from "./client_credentials.ts";
import { credentialsFingerprint } from "../clients/client_secrets_table.ts";
import { type RegisterReply, registerReplySchema } from "./registration_body.ts";
import { PARENT_LAST_SYNC } from "./site_list.ts";

export interface ParentLinkOptions {
  /** The parent's base URL. */
  url: string;
  /** A `site` token of the parent; needed until the site has registered. */
  token?: string;
  fetch?: typeof fetch;
}

const SECRET = "parent_secret";
const ANCESTORS = "ancestors";

export class ParentLink {
  readonly #site: Store & Lineage;
  readonly #o: ParentLinkOptions;
  readonly #meta: KeyValueTable;
  #client: SyncClient | undefined;
  /** The list of sites below has not reached the parent yet (true at start, to be sure). */
  #sitesPending = true;
  /** What the agents' credentials were when last published. */
  #credentialsPublished: string | undefined;
  /** Sites whose documents the parent refuses, held back until the list of sites changes. */
  readonly #refused = new Set<string>();

  constructor(site: Store & Lineage, options: ParentLinkOptions) {
    this.#site = site;
    this.#o = options;
    this.#meta = new KeyValueTable(site.db, "site_meta");
  }

  /** Fails at once when the site can never register: no credential and no token. */
  async check(): Promise<void> {
    if (!await this.#meta.get(SECRET) && !this.#o.token) {
      throw new Error(
        "this site has not registered with its parent yet: give --parent-token-file FILE " +
          "(or --parent-token, or env METER_PARENT_TOKEN) with a token from " +
          "'meter token create --role site' at the parent",
      );
    }
  }

  /**
   * Registers if need be, publishes the summaries that changed, then syncs
   * once; throws what went wrong. When the list of sites below changed, it
   * goes first, alone: the parent must know a site before it accepts that
   * site's summaries.
   */
  async sync(): Promise<SyncOutcome> {
    const client = await this.#syncClient();
    if (await writeOwnSitesDoc(this.#site)) {
      this.#sitesPending = true;
      this.#refused.clear(); // the parent may accept them now
    }
    await publishSummaries(this.#site);
    const fingerprint = await credentialsFingerprint(this.#site.db);
    if (fingerprint !== this.#credentialsPublished) {
      await publishCredentials(this.#site);
      this.#credentialsPublished = fingerprint;
    }
    const sites = await this.#sitesTarget();
    if (this.#sitesPending && sites.length > 0) {
      await this.#follow(await client.sync([...this.#rulesTargets(), ...sites]));
    }
    this.#sitesPending = false;
    const base = [...this.#rulesTargets(), ...sites];
    const relayed = (await this.#summaryTargets())
      .filter((target) => !this.#refused.has(siteOf(target.docId)));
    let outcome: SyncOutcome;
    try {
      outcome = await client.sync([...base, ...relayed]);
    } catch (error) {
      if (!(error instanceof SyncError) || error.status !== 403) throw error;
      outcome = await this.#syncIsolating(client, base, relayed);
    }
    await this.#follow(outcome);
    await this.#meta.set(PARENT_LAST_SYNC, String(Date.now()));
    return outcome;
  }

  /**
   * The parent refused a batch: one site's documents must not hold back the
   * others' (a site below may have claimed a code the parent knows elsewhere).
   * The documents go again site by site; a site whose documents the parent
   * refuses is held back, and logged, until the list of sites changes.
   */
  async #syncIsolating(
    client: SyncClient,
    base: SyncTarget[],
    relayed: SyncTarget[],
  ): Promise<SyncOutcome> {
    const outcome = await client.sync(base);
    const bySite = new Map<string, SyncTarget[]>();
    for (const target of relayed) {
      const code = siteOf(target.docId);
      bySite.set(code, [...bySite.get(code) ?? [], target]);
    }
    for (const [code, targets] of bySite) {
      try {
        await client.sync(targets);
      } catch (error) {
        if (!(error instanceof SyncError) || error.status !== 403) throw error;
        this.#refused.add(code);
        log.error("the parent refuses the documents of a site; they are held back", {
          site: code,
          reason: error.message,
        });
      }
    }
    return outcome;
  }

  /** The ancestors' rules and licences documents, read only. */
  #rulesTargets(): SyncTarget[] {
    return this.#site.ancestors.flatMap((code): SyncTarget[] => [
      { docId: rulesDocId(code), access: "read" },
      { docId: licencesDocId(code), access: "read" },
    ]);
  }

  /** This site's list of the sites below it, once there is one. */
  async #sitesTarget(): Promise<SyncTarget[]> {
    const docId = sitesDocId(this.#site.code);
    if (!await this.#site.docs.info(docId)) return [];
    return [{ docId, access: "write", actor: this.#site.actor }];
  }

  /**
   * Every summary and credentials document held here: this site's own, and
   * those it relays from below.
   */
  async #summaryTargets(): Promise<SyncTarget[]> {
    const held = [
      ...await this.#site.docs.list("summary/"),
      ...await this.#site.docs.list("clients/"),
    ];
    return held.map((d) => ({ docId: d.docId, access: "write" }));
  }

  /**
   * Takes the ancestors the parent names and materialises the rules and
   * licences documents that changed.
   */
  async #follow(outcome: SyncOutcome): Promise<void> {
    const site = this.#site;
    const ancestors = outcome.read.map((docId) => parseDocId(docId))
      .flatMap((id) => id?.kind === "rules" ? [id.site] : []);
    const moved = ancestors.length > 0 && ancestors.join() !== site.ancestors.join();
    const changed = outcome.changed.filter((docId) => {
      const kind = parseDocId(docId)?.kind;
      return kind === "rules" || kind === "licences";
    });
    if (!moved && changed.length === 0) return;
    await site.lock.run(async () => {
      if (moved) {
        site.ancestors = ancestors;
        await site.db.batch([
          this.#meta.setStatement(ANCESTORS, JSON.stringify(ancestors)),
          strangerRulesStatement(site.code, ancestors),
          strangerLicencesStatement(site.code, ancestors),
          ...selfAndAncestorsStatements(site.code, site.actor, ancestors),
        ], "write");
        log.info("ancestors changed", { ancestors });
      }
      for (const code of site.ancestors) {
        for (
          const [docId, rows] of [
            [rulesDocId(code), ancestorRulesStatements],
            [licencesDocId(code), ancestorLicencesStatements],
          ] as const
        ) {
          if (!moved && !changed.includes(docId)) continue;
          site.cache.delete(docId);
          const doc = await site.docs.load(docId);
          if (doc) await site.db.batch(rows(code, doc), "write");
        }
      }
    });
    if (moved) await this.sync(); // the documents of new ancestors
  }

  async #syncClient(): Promise<SyncClient> {
    if (this.#client) return this.#client;
    const secret = await this.#meta.get(SECRET) ?? await this.#register();
    const base = this.#o.url.endsWith("/") ? this.#o.url : this.#o.url + "/";
    this.#client = new SyncClient({
      url: new URL("v1/sites/sync", base).href,
      authorization: () => `Bearer ${this.#site.code}.${secret}`,
      db: this.#site.db,
      docs: this.#site.docs,
      states: this.#site.states,
      peer: "parent",
      fetch: this.#o.fetch,
    });
    return this.#client;
  }

  async #register(): Promise<string> {
    const site = this.#site;
    const base = this.#o.url.endsWith("/") ? this.#o.url : this.#o.url + "/";
    const response = await (this.#o.fetch ?? fetch)(new URL("v1/sites/register", base), {
      method: "POST",
      headers: { authorization: `Bearer ${this.#o.token}`, "content-type": "application/json" },
      body: JSON.stringify({ code: site.code, actor: site.actor }),
    });
    const text = await response.text();
    if (response.status !== 201) {
      throw new Error(
        `the parent refused to register site ${site.code} (${response.status}): ` +
          (errorMessageOf(text) ?? text.slice(0, 200)),
      );
    }
    const reply: RegisterReply = registerReplySchema.parse(JSON.parse(text));
    site.ancestors = reply.ancestors;
    await site.db.batch([
      this.#meta.setStatement(SECRET, reply.secret),
      this.#meta.setStatement(ANCESTORS, JSON.stringify(reply.ancestors)),
      ...selfAndAncestorsStatements(site.code, site.actor, reply.ancestors),
    ], "write");
    log.info("registered with the parent", { parent: reply.ancestors[0], url: this.#o.url });
    return reply.secret;
  }
}

/** The site a summary or credentials document belongs to. */
function siteOf(docId: string): string {
  const id = parseDocId(docId);
  return id && "site" in id ? id.site : "";
}
