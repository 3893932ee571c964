/**
 * The real sync client of `sync/` with its own libSQL file, for a fake agent
 * that should sync exactly as an agent does (rounds until neither side has
 * anything to send, persisted sync states) without an agent process.
 *
 * @module
 */
import type * as A from "@automerge/automerge";
import { type Client, openDatabase } from "../../store/db.ts";
import { DocStore, docStoreSchema } from "../../store/doc_store.ts";
import { SyncClient, type SyncOutcome } from "../../sync/sync_client.ts";
import { syncStateSchema, SyncStateStore } from "../../store/sync_state_store.ts";
import type { FakeAgent } from "./fake_agent.ts";

export class AgentSyncStore {
  readonly #db: Client;
  readonly docs: DocStore;
  readonly #client: SyncClient;
  readonly #agent: FakeAgent;

  private constructor(db: Client, siteUrl: string, agent: FakeAgent) {
    this.#db = db;
    this.#agent = agent;
    this.docs = new DocStore(db);
    this.#client = new SyncClient({
      url: new URL("/v1/sync", siteUrl).href,
      authorization: () => agent.authorization,
      db,
      docs: this.docs,
      states: new SyncStateStore(db),
      peer: "site",
    });
  }

  static async open(path: string, siteUrl: string, agent: FakeAgent): Promise<AgentSyncStore> {
    const db = await openDatabase(path, [...docStoreSchema, ...syncStateSchema]);
    return new AgentSyncStore(db, siteUrl, agent);
  }

  /** Stores the documents locally, then syncs every one of them with the site. */
  async sync(docs: Map<string, A.Doc<unknown>>): Promise<SyncOutcome> {
    for (const [docId, doc] of docs) await this.docs.save(docId, doc);
    return await this.#client.sync(
      [...docs.keys()].map((docId) => ({ docId, access: "write", actor: this.#agent.actor })),
    );
  }

  close(): void {
    this.#db.close();
  }
}
