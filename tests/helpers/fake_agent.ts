/**
 * A fake agent for site tests: enrols through the real `POST /v1/enroll`,
 * builds usage documents with the real record encoders, and sends batches of
 * real Automerge sync messages to `POST /v1/sync`. It lets a test forge
 * exactly the traffic it needs (a change to a document it may only read, a
 * change by a foreign actor, a malformed record) without an agent process.
 *
 * Every message is generated from a fresh sync state primed as the real
 * client primes it, so one message carries every change of its document and
 * a batch stands on its own: sending it again is a repeat, not a new round.
 *
 * @module
 */
import * as A from "@automerge/automerge";
import { newActorId } from "../../lib/secret.ts";
import { CBOR_TYPE, encodeSyncBody, type SyncItem } from "../../sync/sync_batch.ts";
import { primeSyncState } from "../../store/sync_state_store.ts";
import {
  encodeProgram,
  encodeSession,
  type UsageProgram,
  type UsageSession,
} from "../../model/usage_record.ts";
import { decode } from "cbor-x";

export type RecordDoc = A.Doc<Record<string, Uint8Array>>;

export interface FakeAgent {
  clientId: string;
  secret: string;
  actor: string;
  hostName: string;
  /** The `Authorization` header value for `/v1/sync`. */
  authorization: string;
}

/** Enrols a fake agent with a fresh actor id; throws unless the site answers 201. */
export async function enrollFakeAgent(
  url: string,
  enrollToken: string,
  hostName = `fake-${crypto.randomUUID().slice(0, 6)}`,
): Promise<FakeAgent> {
  const actor = newActorId();
  const response = await fetch(new URL("/v1/enroll", url), {
    method: "POST",
    headers: { authorization: `Bearer ${enrollToken}`, "content-type": "application/json" },
    body: JSON.stringify({ hostName, actor }),
  });
  const text = await response.text();
  if (response.status !== 201) throw new Error(`enrol: ${response.status} ${text}`);
  const { clientId, secret } = JSON.parse(text);
  return { clientId, secret, actor, hostName, authorization: `Bearer ${clientId}.${secret}` };
}

/** Posts raw bytes to `/v1/sync`. */
export async function postSyncBytes(
  url: string,
  authorization: string,
  body: Uint8Array,
  contentType = CBOR_TYPE,
): Promise<Response> {
  return await fetch(new URL("/v1/sync", url), {
    method: "POST",
    headers: { authorization, "content-type": contentType, accept: CBOR_TYPE },
    body: body as Uint8Array<ArrayBuffer>,
  });
}

/**
 * Posts a batch and returns the status and, for errors, the JSON error body;
 * `now` is the agent's clock sent with it (left out, as older agents do, if not given).
 */
export async function sendBatch(
  url: string,
  agent: FakeAgent,
  items: SyncItem[],
  { now }: { now?: number } = {},
): Promise<{ status: number; error?: { code: string; message: string } }> {
  const body = encodeSyncBody(now === undefined ? { items } : { items, now });
  const response = await postSyncBytes(url, agent.authorization, body);
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (response.ok) {
    decode(bytes); // a real CBOR reply, or this throws
    return { status: response.status };
  }
  return { status: response.status, error: JSON.parse(new TextDecoder().decode(bytes)).error };
}

/** A message carrying every change of `doc`, as the real client's first sync sends it. */
export function fullMessage(doc: A.Doc<unknown>): Uint8Array {
  const [, msg] = A.generateSyncMessage(doc, primeSyncState(A.initSyncState()));
  if (!msg) throw new Error("Automerge generated no message");
  return msg;
}

/** One batch item for a document. */
export function itemFor(docId: string, doc: A.Doc<unknown>): SyncItem {
  return { doc: docId, msg: fullMessage(doc) };
}

/** A new record document whose changes are made by `actor`. */
export function newRecordDoc(actor: string): RecordDoc {
  return A.init<Record<string, Uint8Array>>({ actor });
}

/**
 * Writes sessions into a usage document of `day` in one change, with their
 * programs (reusing a program record already in the document), as the agent's
 * usage writer does.
 */
export function writeSessions(doc: RecordDoc, day: string, sessions: UsageSession[]): RecordDoc {
  return A.change(doc, (d) => {
    for (const session of sessions) {
      const [sessionDay, key] = session.id.split("/");
      if (sessionDay !== day) throw new Error(`session ${session.id} is not of ${day}`);
      const n = programNumber(d, session);
      d[`p${n}`] = encodeProgram(session);
      d[key] = encodeSession(day, session, n);
    }
  });
}

function programNumber(d: Record<string, Uint8Array>, program: UsageProgram): number {
  const wanted = programText(program);
  const keys = Object.keys(d).filter((k) => /^p\d+$/.test(k));
  for (const key of keys) {
    const [ruleId, user, exe, argv0, version, language] = decode(d[key]);
    const program = { ruleId, user, exe, argv0, version, language };
    if (programText(program) === wanted) return Number(key.slice(1));
  }
  return keys.length;
}

const programText = (p: UsageProgram) =>
  JSON.stringify([p.ruleId, p.user, p.exe, p.argv0, p.version, p.language ?? null]);

/** A usage session with defaults for the fields a test does not care about. */
export function session(
  fields: Pick<UsageSession, "id" | "ruleId" | "user" | "start" | "end"> & Partial<UsageSession>,
): UsageSession {
  return {
    exe: `/usr/bin/${fields.ruleId.toLowerCase()}`,
    argv0: fields.ruleId.toLowerCase(),
    version: "1.0",
    pid: 1000,
    startNotCaptured: false,
    endNotCaptured: false,
    remote: false,
    ...fields,
  };
}
