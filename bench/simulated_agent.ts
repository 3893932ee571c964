/**
 * A simulated agent for load benchmarks: it writes usage documents exactly
 * as the real agent does (program and session records, one change per
 * flush; sessions still running get a null duration, set when they end) and
 * builds the sync bodies the real sync client would send, ahead of time or
 * as it goes, so that the timed part measures the site alone.
 *
 * @module
 */
import * as A from "@automerge/automerge";
import { rulesDocId, usageDocId } from "../model/doc_id.ts";
import { sameHeads } from "../lib/heads.ts";
import {
  CBOR_TYPE,
  compressBody,
  decodeSyncBody,
  encodeSyncBody,
  type SyncItem,
  type SyncReply,
  syncReplySchema,
} from "../sync/mod.ts";
import { primeSyncState } from "../store/sync_state_store.ts";
import { encodeProgram, encodeSession, type UsageSession } from "../model/usage_record.ts";
import type { EnrolledClient } from "./bench_site.ts";
import type { SeededRandom } from "../lib/seeded_random.ts";

type Records = Record<string, Uint8Array>;

/**
 * What one flush records: sessions begun and ended since the last one,
 * sessions begun and still running, and running ones that ended.
 */
export interface Flush {
  ended: number;
  started: number;
  /** The oldest running sessions that end now. */
  ending: number;
}

/** Share of wake-ups with nothing new: many syncs of a real fleet are heartbeats. */
export const IDLE_SHARE = 0.3;

/** What ran since the last sync: sometimes nothing, else a few sessions begun or ended. */
export function randomFlush(random: SeededRandom, running: number, idleShare: number): Flush {
  if (random.chance(idleShare)) return { ended: 0, started: 0, ending: 0 };
  return {
    ended: random.int(0, 2),
    started: random.int(0, 2),
    ending: random.int(0, Math.min(2, running)),
  };
}

export class SimulatedAgent {
  readonly client: EnrolledClient;
  #day: string;
  #doc: A.Doc<Records>;
  /** Heads the site confirmed: the next body carries what came after. */
  #acked: A.Heads = [];
  #rules: A.Doc<Records> = A.init();
  #seq = 0;
  /** Sessions still running: record key → start, oldest first. */
  readonly #running = new Map<string, number>();
  /** Run time of the ended sessions, summed: what the site must hold too. */
  #endedMs = 0;

  /** Who runs the programs: one user for the whole fleet unless a probe names its own. */
  readonly user: string;

  constructor(client: EnrolledClient, day: string, user = "alice") {
    this.client = client;
    this.#day = day;
    this.user = user;
    this.#doc = A.init<Records>({ actor: client.actor });
  }

  /** The day whose usage document it writes. */
  get day(): string {
    return this.#day;
  }

  /**
   * Goes on to the next day's usage document, as the agent does at
   * midnight UTC. Only once the site confirmed everything and nothing is
   * running: a session keeps writing the day it began.
   */
  startDay(day: string): void {
    const heads = A.getHeads(this.#doc);
    if (this.#running.size > 0 || !sameHeads(heads, this.#acked)) {
      throw new Error(`day ${this.#day} still has sessions running or unconfirmed`);
    }
    this.#day = day;
    this.#doc = A.init<Records>({ actor: this.client.actor });
    this.#acked = [];
  }

  /** Nothing recorded that the site has not confirmed. */
  get confirmed(): boolean {
    return sameHeads(A.getHeads(this.#doc), this.#acked);
  }

  get authorization(): string {
    return `Bearer ${this.client.clientId}.${this.client.secret}`;
  }

  /** Sessions recorded so far, running or ended. */
  get sessions(): number {
    return this.#seq;
  }

  /** Sessions still running. */
  get running(): number {
    return this.#running.size;
  }

  /** Run time of the ended sessions, ms, summed. */
  get endedMs(): number {
    return this.#endedMs;
  }

  /** One flush: `count` ended sessions of one program, as one change. */
  addSessions(count: number, startMs: number): void {
    this.#doc = A.change(this.#doc, (d) => {
      this.#program(d);
      for (let i = 0; i < count; i++) {
        const start = startMs + i * 1000;
        const end = start + 30_000 + (this.#seq % 7) * 1000;
        this.#put(d, String(++this.#seq), start, end);
      }
    });
  }

  /**
   * One flush at `now`, as one change: ended sessions that ran a few
   * seconds, sessions still running, and the oldest running ones ended
   * (their records rewritten with a duration, as the agent does). Returns
   * how many records it wrote.
   */
  record(flush: Flush, now: number): number {
    const ending = [...this.#running].slice(0, flush.ending);
    const writes = flush.ended + flush.started + ending.length;
    if (writes === 0) return 0;
    this.#doc = A.change(this.#doc, (d) => {
      this.#program(d);
      for (let i = 0; i < flush.ended; i++) {
        this.#put(d, String(++this.#seq), now - 5_000 - i * 1000, now - i * 1000);
      }
      for (let i = 0; i < flush.started; i++) {
        const key = String(++this.#seq);
        this.#put(d, key, now - i * 1000, null);
        this.#running.set(key, now - i * 1000);
      }
      for (const [key, start] of ending) {
        this.#put(d, key, start, Math.max(now, start));
        this.#running.delete(key);
      }
    });
    return writes;
  }

  #program(d: Records): void {
    if (d.p0) return;
    d.p0 = encodeProgram({
      ruleId: "S01-1",
      user: this.user,
      exe: "/usr/bin/python3.11",
      argv0: "python3",
      version: "3.11.2-1",
    });
  }

  /** Writes the record of session `key`; pids follow the key, as unique as the sessions. */
  #put(d: Records, key: string, start: number, end: number | null): void {
    const session: UsageSession = {
      id: "",
      ruleId: "S01-1",
      user: this.user,
      exe: "/usr/bin/python3.11",
      argv0: "python3",
      version: "3.11.2-1",
      pid: 10_000 + Number(key),
      start,
      end,
      startNotCaptured: false,
      endNotCaptured: false,
      remote: false,
    };
    if (end !== null) this.#endedMs += end - start;
    d[key] = encodeSession(this.#day, session, 0);
  }

  /** The body that sends everything since the last acknowledged heads. */
  usageBody(): Uint8Array {
    return encodeSyncBody({ items: [this.#usageItem()] });
  }

  #usageItem(): SyncItem {
    const state = A.initSyncState() as A.SyncState & { sharedHeads: A.Heads };
    state.sharedHeads = this.#acked;
    const [, msg] = A.generateSyncMessage(this.#doc, primeSyncState(state));
    return { doc: usageDocId(this.client.clientId, this.#day), msg: msg! };
  }

  /**
   * The body of a periodic sync, as the real client builds it: the rules
   * replica always (it announces its heads), the usage document only when
   * it holds changes the site has not confirmed. `heads` is what to
   * acknowledge once the site answers.
   */
  syncBody(): { body: Uint8Array; usage: boolean; heads: A.Heads } {
    const heads = A.getHeads(this.#doc);
    const usage = !sameHeads(heads, this.#acked);
    const items = [this.#rulesItem(), ...(usage ? [this.#usageItem()] : [])];
    return { body: encodeSyncBody({ items }), usage, heads };
  }

  /** The site acknowledged the body built at `heads` (by default, everything so far). */
  acknowledge(heads: A.Heads = A.getHeads(this.#doc)): void {
    this.#acked = heads;
  }

  /** The version of the rules the site last said this agent follows (`rules`). */
  rulesVersion: string | undefined;

  /** Fetches the site's rules into the replica, as a first real sync does. */
  async followRules(site: string, siteCode = "S01"): Promise<void> {
    const [, msg] = A.generateSyncMessage(this.#rules, A.initSyncState());
    const reply = await post(
      site,
      this.authorization,
      encodeSyncBody({ items: [{ doc: rulesDocId(siteCode), msg: msg! }] }),
    );
    this.receiveRules(decodeSyncBody(reply, syncReplySchema));
  }

  /** Takes what a sync answer brings of the rules into the replica, as the real agent does. */
  receiveRules(reply: SyncReply, siteCode = "S01"): void {
    const doc = rulesDocId(siteCode);
    let state = A.initSyncState();
    for (const item of reply.items) {
      if (item.doc === doc) {
        [this.#rules, state] = A.receiveSyncMessage(this.#rules, state, item.msg);
      }
    }
    this.rulesVersion = reply.rules ?? this.rulesVersion;
  }

  /** A sync with nothing new: the rules replica announces its heads. */
  heartbeatBody(siteCode = "S01"): Uint8Array {
    return encodeSyncBody({ items: [this.#rulesItem(siteCode)] });
  }

  #rulesItem(siteCode = "S01"): SyncItem {
    const state = A.initSyncState() as A.SyncState & { sharedHeads: A.Heads };
    state.sharedHeads = A.getHeads(this.#rules);
    const [, msg] = A.generateSyncMessage(this.#rules, primeSyncState(state));
    return { doc: rulesDocId(siteCode), msg: msg! };
  }
}

/** Posts a sync body; throws unless the site answers 200. Returns the reply body. */
export async function post(
  site: string,
  authorization: string,
  body: Uint8Array,
): Promise<Uint8Array> {
  const { status, reply } = await postSync(site, authorization, body);
  if (status !== 200) {
    throw new Error(`sync answered ${status}: ${new TextDecoder().decode(reply)}`);
  }
  return reply;
}

export interface PostSyncOptions {
  /** The connection pool to use: an agent's own, as each real agent has. */
  client?: Deno.HttpClient;
  /** Compress the body when it pays, as the real sync client does. */
  deflate?: boolean;
  signal?: AbortSignal;
}

/** Posts a sync body and returns the status and reply, whatever the status. */
export async function postSync(
  site: string,
  authorization: string,
  body: Uint8Array,
  options: PostSyncOptions = {},
): Promise<{ status: number; reply: Uint8Array }> {
  const { body: sent, encoding } = options.deflate ? compressBody(body) : { body };
  const response = await fetch(`${site}/v1/sync`, {
    method: "POST",
    headers: {
      "content-type": CBOR_TYPE,
      authorization,
      ...(encoding ? { "content-encoding": encoding } : {}),
    },
    body: sent as Uint8Array<ArrayBuffer>,
    client: options.client,
    signal: options.signal,
  });
  return { status: response.status, reply: new Uint8Array(await response.arrayBuffer()) };
}
