/**
 * A simulated agent for load benchmarks: it writes usage documents exactly
 * as the real agent does (program and session records, one change per
 * flush) and builds the sync bodies the real sync client would send, ahead
 * of time, so that the timed part measures the site alone.
 *
 * @module
 */
import * as A from "@automerge/automerge";
import { rulesDocId, usageDocId } from "../sync/doc_id.ts";
import { CBOR_TYPE, decodeSyncBody, encodeSyncBody, syncReplySchema } from "../sync/sync_batch.ts";
import { primeSyncState } from "../sync/sync_state_store.ts";
import { encodeProgram, encodeSession, type UsageSession } from "../sync/usage_record.ts";
import type { EnrolledClient } from "./bench_site.ts";

type Records = Record<string, Uint8Array>;

export class SimulatedAgent {
  readonly client: EnrolledClient;
  readonly day: string;
  #doc: A.Doc<Records>;
  /** Heads the site confirmed: the next body carries what came after. */
  #acked: A.Heads = [];
  #rules: A.Doc<Records> = A.init();
  #seq = 0;

  constructor(client: EnrolledClient, day: string) {
    this.client = client;
    this.day = day;
    this.#doc = A.init<Records>({ actor: client.actor });
  }

  get authorization(): string {
    return `Bearer ${this.client.clientId}.${this.client.secret}`;
  }

  /** One flush: `count` ended sessions of one program, as one change. */
  addSessions(count: number, startMs: number): void {
    this.#doc = A.change(this.#doc, (d) => {
      if (!d.p0) {
        d.p0 = encodeProgram({
          ruleId: "S01-1",
          user: "alice",
          exe: "/usr/bin/python3.11",
          argv0: "python3",
          version: "3.11.2-1",
        });
      }
      for (let i = 0; i < count; i++) {
        const start = startMs + i * 1000;
        const session: UsageSession = {
          id: "",
          ruleId: "S01-1",
          user: "alice",
          exe: "/usr/bin/python3.11",
          argv0: "python3",
          version: "3.11.2-1",
          pid: 10_000 + this.#seq,
          start,
          end: start + 30_000 + (this.#seq % 7) * 1000,
          startNotCaptured: false,
          endNotCaptured: false,
          remote: false,
        };
        d[String(++this.#seq)] = encodeSession(this.day, session, 0);
      }
    });
  }

  /** The body that sends everything since the last acknowledged heads. */
  usageBody(): Uint8Array {
    const state = A.initSyncState() as A.SyncState & { sharedHeads: A.Heads };
    state.sharedHeads = this.#acked;
    const [, msg] = A.generateSyncMessage(this.#doc, primeSyncState(state));
    return encodeSyncBody({
      items: [{ doc: usageDocId(this.client.clientId, this.day), msg: msg! }],
    });
  }

  /** The site acknowledged the last body. */
  acknowledge(): void {
    this.#acked = A.getHeads(this.#doc);
  }

  /** Fetches the site's rules into the replica, as a first real sync does. */
  async followRules(site: string, siteCode = "S01"): Promise<void> {
    const [, msg] = A.generateSyncMessage(this.#rules, A.initSyncState());
    const reply = await post(
      site,
      this.authorization,
      encodeSyncBody({ items: [{ doc: rulesDocId(siteCode), msg: msg! }] }),
    );
    const decoded = decodeSyncBody(reply, syncReplySchema);
    let state = A.initSyncState();
    for (const item of decoded.items) {
      [this.#rules, state] = A.receiveSyncMessage(this.#rules, state, item.msg);
    }
  }

  /** A sync with nothing new: the rules replica announces its heads. */
  heartbeatBody(siteCode = "S01"): Uint8Array {
    const state = A.initSyncState() as A.SyncState & { sharedHeads: A.Heads };
    state.sharedHeads = A.getHeads(this.#rules);
    const [, msg] = A.generateSyncMessage(this.#rules, primeSyncState(state));
    return encodeSyncBody({ items: [{ doc: rulesDocId(siteCode), msg: msg! }] });
  }
}

/** Posts a sync body; throws unless the site answers 200. Returns the reply body. */
export async function post(
  site: string,
  authorization: string,
  body: Uint8Array,
): Promise<Uint8Array> {
  const response = await fetch(`${site}/v1/sync`, {
    method: "POST",
    headers: { "content-type": CBOR_TYPE, authorization },
    body: body as Uint8Array<ArrayBuffer>,
  });
  const reply = new Uint8Array(await response.arrayBuffer());
  if (response.status !== 200) {
    throw new Error(`sync answered ${response.status}: ${new TextDecoder().decode(reply)}`);
  }
  return reply;
}
