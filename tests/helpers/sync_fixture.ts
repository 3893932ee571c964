/**
 * An in-process sync client against a real site: enrolled with
 * `POST /v1/enroll`, its documents in its own libSQL file, usage written the
 * way the agent writes it (one program record `p0`, sessions under `1`, `2`,
 * ...), and a {@linkcode SyncClient} that talks to the site over loopback.
 *
 * Also reads the site's own database file directly, for what its API does
 * not show (row update times, stored document heads).
 *
 * @module
 */
import * as A from "@automerge/automerge";
import { createClient } from "@libsql/client";
import { join } from "node:path";
import { type Client, openDatabase } from "../../store/db.ts";
import { dayOf, dayStart, rulesDocId, usageDocId } from "../../model/doc_id.ts";
import { DocStore } from "../../store/doc_store.ts";
import { parseHeadsKey } from "../../lib/heads.ts";
import { decodeSentBatch, sentEncoding } from "./sent_batch.ts";
import {
  SyncClient,
  type SyncClientOptions,
  type SyncOutcome,
  type SyncTarget,
} from "../../sync/sync_client.ts";
import { syncStateSchema, SyncStateStore } from "../../store/sync_state_store.ts";
import { docStoreSchema } from "../../store/doc_store.ts";
import { encodeProgram, encodeSession, type UsageSession } from "../../model/usage_record.ts";

export interface Enrolled {
  clientId: string;
  secret: string;
  actor: string;
  read: string[];
}

/** A fresh Automerge actor id: 32 hex digits. */
export function newActor(): string {
  return crypto.randomUUID().replaceAll("-", "");
}

/** Enrols a new client at the site, as the agent does. */
export async function enrollClient(
  siteUrl: string,
  enrollToken: string,
  actor = newActor(),
): Promise<Enrolled> {
  const response = await fetch(new URL("/v1/enroll", siteUrl), {
    method: "POST",
    headers: { authorization: `Bearer ${enrollToken}`, "content-type": "application/json" },
    body: JSON.stringify({ hostName: `sync-test-${actor.slice(0, 6)}`, actor }),
  });
  if (response.status !== 201) {
    throw new Error(`enrol: ${response.status} ${await response.text()}`);
  }
  const body = await response.json();
  return { clientId: body.clientId, secret: body.secret, actor, read: body.read };
}

type UsageDoc = Record<string, Uint8Array>;

/** One enrolled client with its own database, writing usage as the agent does. */
export class LocalClient {
  readonly docs: DocStore;
  readonly states: SyncStateStore;
  /** Every session id written so far, `<day>/<n>`. */
  readonly written: string[] = [];
  #nextSeq = 1;

  private constructor(
    readonly db: Client,
    readonly dbPath: string,
    readonly site: string,
    readonly enrolled: Enrolled,
    readonly day: string,
    readonly siteCode: string,
  ) {
    this.docs = new DocStore(db);
    this.states = new SyncStateStore(db);
  }

  static async open(
    dir: string,
    siteUrl: string,
    enrolled: Enrolled,
    { day = dayOf(Date.now()), siteCode = "S01" } = {},
  ): Promise<LocalClient> {
    const dbPath = join(dir, `client-${enrolled.clientId}.db`);
    const db = await openDatabase(dbPath, [...docStoreSchema, ...syncStateSchema]);
    return new LocalClient(db, dbPath, siteUrl, enrolled, day, siteCode);
  }

  get clientId(): string {
    return this.enrolled.clientId;
  }

  get usageDocId(): string {
    return usageDocId(this.clientId, this.day);
  }

  get rulesDocId(): string {
    return rulesDocId(this.siteCode);
  }

  /** Writes `n` new ended sessions in one change, as one agent flush does. */
  async addSessions(n: number): Promise<string[]> {
    const docId = this.usageDocId;
    const { actor } = this.enrolled;
    const info = await this.docs.info(docId);
    const doc = await this.docs.load<UsageDoc>(docId, actor) ?? A.init<UsageDoc>({ actor });
    const ids: string[] = [];
    const next = A.change(doc, (d) => {
      const program = {
        ruleId: "S01-1",
        user: "tester",
        exe: "/usr/bin/mtest-sync",
        argv0: "mtest-sync",
        version: "1.0",
      };
      if (!d.p0) d.p0 = encodeProgram(program);
      for (let i = 0; i < n; i++) {
        const seq = this.#nextSeq++;
        const start = dayStart(this.day) + seq * 1000;
        const session: UsageSession = {
          ...program,
          id: `${this.day}/${seq}`,
          pid: 10_000 + seq,
          start,
          end: start + 500,
          startNotCaptured: false,
          endNotCaptured: false,
          remote: false,
        };
        d[String(seq)] = encodeSession(this.day, session, 0);
        ids.push(session.id);
      }
    });
    const { statements } = this.docs.prepareSave(docId, next, info);
    await this.db.batch(statements, "write");
    this.written.push(...ids);
    return ids;
  }

  /** What the agent syncs: its usage documents and the site's rules. */
  async targets(): Promise<SyncTarget[]> {
    const { actor } = this.enrolled;
    const written = await this.docs.list(`usage/${this.clientId}/`);
    return [
      ...written.map((d): SyncTarget => ({ docId: d.docId, access: "write", actor })),
      { docId: this.rulesDocId, access: "read" },
    ];
  }

  /** A sync client for this client, with overrides (fetch, timeout). */
  client(options: Partial<SyncClientOptions> = {}): SyncClient {
    const { clientId, secret } = this.enrolled;
    return new SyncClient({
      url: new URL("/v1/sync", this.site).href,
      authorization: () => `Bearer ${clientId}.${secret}`,
      db: this.db,
      docs: this.docs,
      states: this.states,
      peer: "site",
      ...options,
    });
  }

  async sync(options: Partial<SyncClientOptions> = {}): Promise<SyncOutcome> {
    return await this.client(options).sync(await this.targets());
  }

  /** The local heads of a document, sorted. */
  async heads(docId = this.usageDocId): Promise<string[]> {
    return [...((await this.docs.info(docId))?.heads ?? [])].sort();
  }

  /** The persisted sync state rows, to restore later. */
  async syncStateRows(): Promise<{ doc_id: string; state: Uint8Array }[]> {
    const result = await this.db.execute(
      "SELECT doc_id, state FROM sync_states WHERE peer = 'site' ORDER BY doc_id",
    );
    return result.rows.map((row) => ({
      doc_id: row.doc_id as string,
      state: new Uint8Array(row.state as ArrayBuffer),
    }));
  }

  /** Replaces the persisted sync states with the given rows. */
  async restoreSyncStateRows(rows: { doc_id: string; state: Uint8Array }[]): Promise<void> {
    await this.db.batch([
      { sql: "DELETE FROM sync_states WHERE peer = 'site'", args: [] },
      ...rows.map((row) => ({
        sql: "INSERT INTO sync_states (peer, doc_id, state) VALUES ('site', ?, ?)",
        args: [row.doc_id, row.state],
      })),
    ], "write");
  }

  close(): void {
    this.db.close();
  }
}

export interface SiteRow {
  session_id: string;
  rule_id: string;
  pid: number;
  start_ms: number;
  end_ms: number | null;
  updated_at: number;
}

/** Reads the site's database file directly (it runs in WAL mode). */
export class SiteDb {
  readonly #db: Client;

  constructor(path: string) {
    this.#db = createClient({ url: `file:${path}`, intMode: "number" });
  }

  /** A client's `usage_sessions` rows, by session id. */
  async rows(clientId: string): Promise<SiteRow[]> {
    const result = await this.#db.execute({
      sql: `SELECT session_id, rule_id, pid, start_ms, end_ms, updated_at FROM usage_sessions
        WHERE client_id = ? ORDER BY session_id`,
      args: [clientId],
    });
    return result.rows.map((row) => ({ ...row }) as unknown as SiteRow);
  }

  /** The stored heads of a document at the site, sorted, or `undefined`. */
  async heads(docId: string): Promise<string[] | undefined> {
    const result = await this.#db.execute({
      sql: "SELECT heads FROM docs WHERE doc_id = ?",
      args: [docId],
    });
    const row = result.rows[0];
    return row ? parseHeadsKey(row.heads as string).sort() : undefined;
  }

  /** Ids of every document stored at the site whose id starts with `prefix`. */
  async docIds(prefix: string): Promise<string[]> {
    const result = await this.#db.execute({
      sql: "SELECT doc_id FROM docs WHERE substr(doc_id, 1, length(?)) = ? ORDER BY doc_id",
      args: [prefix, prefix],
    });
    return result.rows.map((row) => row.doc_id as string);
  }

  close(): void {
    this.#db.close();
  }
}

/** Session ids sorted the way the site's rows are (text order). */
export const textSorted = (ids: readonly string[]) => [...ids].sort();

/** One sync request as it went over the wire. */
export interface WireRequest {
  /** The documents the batch names, in order. */
  docs: string[];
  /** Changes carried per document. */
  changes: Record<string, number>;
  body: Uint8Array;
  /** The body's `content-encoding`, if it was compressed. */
  encoding: string | null;
  status: number;
}

/**
 * A `fetch` that passes every request to the real one and records what the
 * sync client sent, decoded.
 */
export function recordingFetch(): { fetch: typeof fetch; requests: WireRequest[] } {
  const requests: WireRequest[] = [];
  const recording = async (input: RequestInfo | URL, init?: RequestInit) => {
    const body = new Uint8Array(init?.body as Uint8Array);
    const { items } = decodeSentBatch(body, sentEncoding(init));
    const response = await fetch(input, init);
    requests.push({
      docs: items.map((i) => i.doc),
      changes: Object.fromEntries(
        items.map((i) => [i.doc, A.decodeSyncMessage(i.msg).changes.length]),
      ),
      body,
      encoding: sentEncoding(init),
      status: response.status,
    });
    return response;
  };
  return { fetch: recording as typeof fetch, requests };
}
