/**
 * Seeded mutations of valid sync batches, for fuzzing `POST /v1/sync`: bit
 * flips and truncation of the CBOR body, duplicated and reordered items,
 * CBOR length headers that announce far more than the body holds, deep
 * nesting, wrong types, a wrong or compressed body, and real Automerge
 * messages sent for another peer's documents or under another peer's
 * document ids.
 *
 * Each mutant says what it did (`how`, for the failure message) and, where
 * the mutation alone decides the answer, the one status the site may give
 * (a truncated body is always 400; another client's document always 403).
 * Mutations only ever start from batches the site has already accepted, so
 * whatever a mutant carries that is still a valid, authorised Automerge
 * change is one the site already holds (see `site_sync_fuzz.test.ts`).
 *
 * @module
 */
import { encode } from "cbor-x";
import { deflateSync } from "node:zlib";
import { DEFLATE } from "../../sync/body_compression.ts";
import { parseDocId } from "../../model/doc_id.ts";
import { MAX_SYNC_BODY_BYTES, type SyncItem } from "../../sync/sync_batch.ts";
import type { FakeAgent } from "./fake_agent.ts";
import type { SeededRandom } from "../../lib/seeded_random.ts";

/** A valid batch an agent sent and the site accepted. */
export interface SentBatch {
  agent: FakeAgent;
  items: SyncItem[];
  /** The agent's clock sent with it. */
  now: number;
}

/** One mutated request. */
export interface Mutant {
  sender: FakeAgent;
  body: Uint8Array;
  /** The `Content-Encoding` to send, if any. */
  encoding?: string;
  /** What was done, for the failure message. */
  how: string;
  /** The one status the site may answer, where the mutation decides it. */
  status?: number;
}

/** What mutations start from: batches already accepted, and every agent. */
export interface MutationSource {
  rng: SeededRandom;
  sent: readonly SentBatch[];
  agents: readonly FakeAgent[];
}

type Mutation = (s: MutationSource) => Mutant;

/** One random mutation of an accepted batch. */
export function mutateBatch(source: MutationSource): Mutant {
  return source.rng.pick(WEIGHTED)(source);
}

// ---- bytes --------------------------------------------------------------------

const cbor = (value: unknown) => encode(value) as Uint8Array;

function concat(...parts: (Uint8Array | number[])[]): Uint8Array {
  const arrays = parts.map((p) => (p instanceof Uint8Array ? p : Uint8Array.from(p)));
  const out = new Uint8Array(arrays.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of arrays) {
    out.set(a, at);
    at += a.length;
  }
  return out;
}

function flipBits(rng: SeededRandom, bytes: Uint8Array, flips: number): Uint8Array {
  const out = bytes.slice();
  for (let f = 0; f < flips; f++) out[rng.below(out.length)] ^= 1 << rng.below(8);
  return out;
}

const bodyOf = (items: unknown, now?: unknown) =>
  cbor(now === undefined ? { items } : { items, now });

// ---- picking from what was sent -------------------------------------------------

const pickBatch = (s: MutationSource) => s.rng.pick(s.sent);

/** The agent's documents as the site holds them: the last message sent for each. */
function wholeState(s: MutationSource, agent: FakeAgent): SyncItem[] {
  const latest = new Map<string, SyncItem>();
  for (const batch of s.sent) {
    if (batch.agent !== agent) continue;
    for (const item of batch.items) latest.set(item.doc, item);
  }
  return [...latest.values()];
}

/** Items of documents the agent writes (its usage and inventory), not the rules it reads. */
const written = (items: SyncItem[]) =>
  items.filter((item) => {
    const kind = parseDocId(item.doc)?.kind;
    return kind === "usage" || kind === "inventory";
  });

function otherAgent(s: MutationSource, not: FakeAgent): FakeAgent {
  return s.rng.pick(s.agents.filter((a) => a !== not));
}

function shuffled<T>(rng: SeededRandom, items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.below(i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

function insertAt<T>(rng: SeededRandom, items: readonly T[], item: T): T[] {
  const at = rng.below(items.length + 1);
  return [...items.slice(0, at), item, ...items.slice(at)];
}

// ---- the mutations ----------------------------------------------------------------

const bodyBitFlips: Mutation = (s) => {
  const batch = pickBatch(s);
  const flips = 1 + s.rng.below(8);
  return {
    sender: batch.agent,
    body: flipBits(s.rng, bodyOf(batch.items, batch.now), flips),
    how: `${flips} bits flipped in the body of a ${batch.items.length}-item batch`,
  };
};

const bodyTruncated: Mutation = (s) => {
  const batch = pickBatch(s);
  const body = bodyOf(batch.items, batch.now);
  const at = s.rng.below(body.length);
  return {
    sender: batch.agent,
    body: body.slice(0, at),
    how: `body truncated to ${at} of ${body.length} bytes`,
    status: 400,
  };
};

const trailingBytes: Mutation = (s) => {
  const batch = pickBatch(s);
  const extra = s.rng.bytes(1 + s.rng.below(16));
  return {
    sender: batch.agent,
    body: concat(bodyOf(batch.items, batch.now), extra),
    how: `${extra.length} bytes after a valid body`,
    status: 400,
  };
};

const itemDuplicated: Mutation = (s) => {
  const batch = pickBatch(s);
  const twin = s.rng.pick(batch.items);
  // the same document again, with its own message or another document's (not
  // for the rules, where a message with changes is refused with 403 first)
  const other = s.rng.pick(batch.items).msg;
  const msg = s.rng.next() < 0.5 || parseDocId(twin.doc)?.kind === "rules" ? twin.msg : other;
  return {
    sender: batch.agent,
    body: bodyOf(insertAt(s.rng, batch.items, { doc: twin.doc, msg }), batch.now),
    how: `${twin.doc} named twice`,
    status: 400,
  };
};

const itemsReordered: Mutation = (s) => {
  const agent = s.rng.pick(s.sent).agent;
  const items = shuffled(s.rng, wholeState(s, agent));
  return {
    sender: agent,
    body: bodyOf(items, Date.now()),
    how: `all ${items.length} documents of ${agent.hostName} in a shuffled order`,
    status: 200,
  };
};

const foreignDocuments: Mutation = (s) => {
  const batch = pickBatch(s);
  const foreign = written(batch.items);
  const sender = otherAgent(s, batch.agent);
  if (foreign.length === 0) return itemsReordered(s);
  // beside the sender's own documents or alone
  const own = s.rng.next() < 0.5 ? written(wholeState(s, sender)) : [];
  const items = shuffled(s.rng, [...own, ...foreign]);
  return {
    sender,
    body: bodyOf(items, Date.now()),
    how: `${sender.hostName} sends ${
      foreign.map((i) => i.doc).join(", ")
    } of ${batch.agent.hostName}`,
    status: 403,
  };
};

/** Another agent's real message under the sender's own document id: a foreign actor's change. */
const foreignActor: Mutation = (s) => {
  const batch = pickBatch(s);
  const theirs = written(batch.items);
  if (theirs.length === 0) return itemsReordered(s);
  const sender = otherAgent(s, batch.agent);
  const item = s.rng.pick(theirs);
  const doc = item.doc.replace(`/${batch.agent.clientId}`, `/${sender.clientId}`);
  const own = written(wholeState(s, sender)).filter((i) => i.doc !== doc);
  return {
    sender,
    body: bodyOf(insertAt(s.rng, own, { doc, msg: item.msg }), Date.now()),
    how: `${batch.agent.hostName}'s message for ${item.doc} sent by ${sender.hostName} as ${doc}`,
    status: 403,
  };
};

function withItemMsg(
  s: MutationSource,
  change: (msg: Uint8Array) => { msg: Uint8Array; how: string },
): Mutant {
  const batch = pickBatch(s);
  const at = s.rng.below(batch.items.length);
  const { msg, how } = change(batch.items[at].msg);
  const items = batch.items.map((item, i) => (i === at ? { ...item, msg } : item));
  return { sender: batch.agent, body: bodyOf(items, batch.now), how: `${how} (${items[at].doc})` };
}

const msgBitFlips: Mutation = (s) =>
  withItemMsg(s, (msg) => {
    const flips = 1 + s.rng.below(4);
    return { msg: flipBits(s.rng, msg, flips), how: `${flips} bits flipped in a message` };
  });

const msgTruncated: Mutation = (s) =>
  withItemMsg(s, (msg) => {
    const length = 1 + s.rng.below(msg.length - 1);
    return { msg: msg.slice(0, length), how: `message truncated to ${length} of ${msg.length}` };
  });

/** Length headers far past the body: 2^62, 2^64 - 1 and 2^32 - 1 elements or bytes. */
const HUGE_HEADERS: [string, number[]][] = [
  ["array of 2^62", [0x9b, 0x40, 0, 0, 0, 0, 0, 0, 0]],
  ["array of 2^32-1", [0x9a, 0xff, 0xff, 0xff, 0xff]],
  ["map of 2^62", [0xbb, 0x40, 0, 0, 0, 0, 0, 0, 0]],
  ["map of 2^32-1", [0xba, 0xff, 0xff, 0xff, 0xff]],
  ["bytes of 2^32-1", [0x5a, 0xff, 0xff, 0xff, 0xff]],
  ["bytes of 2^62", [0x5b, 0x40, 0, 0, 0, 0, 0, 0, 0]],
  ["bytes of 2^64-1", [0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]],
  ["text of 2^32-1", [0x7a, 0xff, 0xff, 0xff, 0xff]],
  ["text of 2^62", [0x7b, 0x40, 0, 0, 0, 0, 0, 0, 0]],
  ["typed-array tag on bytes of 2^32-1", [0xd8, 0x40, 0x5a, 0xff, 0xff, 0xff, 0xff]],
  ["indefinite bytes with a chunk of 2^32-1", [0x5f, 0x5a, 0xff, 0xff, 0xff, 0xff]],
];

/** Where a raw CBOR value goes: the whole body, `items`, an item, an item's `msg` or `doc`. */
function placed(s: MutationSource, raw: Uint8Array): { body: Uint8Array; where: string } {
  const item = s.rng.pick(pickBatch(s).items);
  const items = concat([0xa1], cbor("items"));
  const where = s.rng.pick(["body", "items", "item", "msg", "doc"] as const);
  if (where === "body") return { body: raw, where };
  if (where === "items") return { body: concat(items, raw), where };
  if (where === "item") return { body: concat(items, [0x81], raw), where };
  const value = where === "msg"
    ? concat(cbor("doc"), cbor(item.doc), cbor("msg"), raw)
    : concat(cbor("msg"), cbor(item.msg), cbor("doc"), raw);
  return { body: concat(items, [0x81, 0xa2], value), where };
}

const hugeCount: Mutation = (s) => {
  const [name, header] = s.rng.pick(HUGE_HEADERS);
  const { body, where } = placed(s, concat(header, s.rng.bytes(s.rng.below(64))));
  return { sender: pickBatch(s).agent, body, how: `${name} as the ${where}`, status: 400 };
};

/** A real count that the body holds: far more items than a batch may have. */
const manyItems: Mutation = (s) => {
  const count = 100_000 + s.rng.below(900_000);
  const header = [0x9a, count >>> 24, (count >>> 16) & 0xff, (count >>> 8) & 0xff, count & 0xff];
  const body = concat([0xa1], cbor("items"), header, new Uint8Array(count));
  return { sender: pickBatch(s).agent, body, how: `${count} items of 0`, status: 400 };
};

/** Nesting tens of thousands deep: arrays, maps, unknown tags, unclosed indefinite arrays. */
const NESTERS: [string, number[], number[]][] = [
  ["arrays", [0x81], [0x00]],
  ["maps", [0xa1, 0x61, 0x61], [0x00]],
  ["unknown tags", [0xc6], [0x00]],
  ["typed-array tags", [0xd8, 0x40], [0x41, 0x00]],
  ["indefinite arrays", [0x9f], []],
];

const deepNesting: Mutation = (s) => {
  const [name, open, close] = s.rng.pick(NESTERS);
  const depth = 10_000 + s.rng.below(90_000);
  const raw = new Uint8Array(depth * open.length + close.length);
  for (let i = 0; i < depth; i++) raw.set(open, i * open.length);
  raw.set(close, depth * open.length);
  const { body, where } = placed(s, raw);
  return {
    sender: pickBatch(s).agent,
    body,
    how: `${name} nested ${depth} deep as the ${where}`,
    status: 400,
  };
};

/** cbor-x's generic-object tag (27) calls a constructor by name. */
const genericObject = (name: string, arg: unknown) =>
  concat([0xd8, 0x1b, 0x82], cbor(name), cbor(arg));

function wrongShapes(item: SyncItem): [string, Uint8Array][] {
  const { doc, msg } = item;
  const text = new TextEncoder().encode(doc);
  return [
    ["items is a map", bodyOf({})],
    ["an item is null", bodyOf([null])],
    ["doc is a number", bodyOf([{ doc: 42, msg }])],
    ["doc is a byte string", bodyOf([{ doc: text, msg }])],
    ["doc is 121 characters", bodyOf([{ doc: `usage/${"a".repeat(115)}`, msg }])],
    ["msg is a list", bodyOf([{ doc, msg: [...msg.slice(0, 8)] }])],
    ["msg is text", bodyOf([{ doc, msg: "hello" }])],
    ["msg is a Uint16Array", bodyOf([{ doc, msg: new Uint16Array([1, 2, 3]) }])],
    ["msg is empty", bodyOf([{ doc, msg: new Uint8Array() }])],
    ["an item has no msg", bodyOf([{ doc }])],
    ["an item has an extra field", bodyOf([{ doc, msg, extra: true }])],
    ["items is a set", bodyOf(new Set([item]))],
    ["the body is a date", cbor(new Date(0))],
    ["the body is a list", cbor([item])],
    ["the body is true", cbor(true)],
    ["now is text", bodyOf([item], "soon")],
    ["now is negative", bodyOf([item], -1)],
    ["now is zero", bodyOf([item], 0)],
    ["now is a fraction", bodyOf([item], 1.5)],
    ["now is null", bodyOf([item], null)],
    ["now is NaN", bodyOf([item], NaN)],
    ["now is a bignum", bodyOf([item], 2n ** 70n)],
    ["msg is a generic object (constructor)", rawItem(doc, genericObject("constructor", "x"))],
    ["doc is a generic object (RegExp)", rawDoc(msg, genericObject("RegExp", "(a+)+$"))],
    ["msg is a generic object (__proto__)", rawItem(doc, genericObject("__proto__", 1))],
    ["items is a shared reference", concat([0xa1], cbor("items"), [0xd8, 0x1d, 0x00])],
  ];
}

/** `{items: [{doc, msg: raw}]}`. */
const rawItem = (doc: string, raw: Uint8Array) =>
  concat([0xa1], cbor("items"), [0x81, 0xa2], cbor("doc"), cbor(doc), cbor("msg"), raw);

/** `{items: [{msg, doc: raw}]}`. */
const rawDoc = (msg: Uint8Array, raw: Uint8Array) =>
  concat([0xa1], cbor("items"), [0x81, 0xa2], cbor("msg"), cbor(msg), cbor("doc"), raw);

const wrongType: Mutation = (s) => {
  const batch = pickBatch(s);
  const [how, body] = s.rng.pick(wrongShapes(s.rng.pick(batch.items)));
  return { sender: batch.agent, body, how, status: 400 };
};

/** A `now` that is a valid clock reading, just not the one sent: the body is otherwise a repeat. */
const otherClock: Mutation = (s) => {
  const batch = pickBatch(s);
  const now = s.rng.pick([1, batch.now - 400 * 86_400_000, batch.now + 3_600_000, 2 ** 53 - 1]);
  return {
    sender: batch.agent,
    body: bodyOf(batch.items, now),
    how: `a repeated batch with now = ${now}`,
  };
};

const deflated: Mutation = (s) => {
  const batch = pickBatch(s);
  const compressed = new Uint8Array(deflateSync(bodyOf(batch.items, batch.now)));
  const kind = s.rng.below(4);
  if (kind === 0) {
    return { sender: batch.agent, body: compressed, encoding: DEFLATE, how: "deflated repeat" };
  }
  if (kind === 1) {
    const flips = 1 + s.rng.below(4);
    return {
      sender: batch.agent,
      body: flipBits(s.rng, compressed, flips),
      encoding: DEFLATE,
      how: `${flips} bits flipped in a deflated body`,
    };
  }
  if (kind === 2) {
    const bomb = new Uint8Array(deflateSync(new Uint8Array(MAX_SYNC_BODY_BYTES + 1024)));
    return { sender: batch.agent, body: bomb, encoding: DEFLATE, how: "deflate bomb", status: 413 };
  }
  return {
    sender: batch.agent,
    body: compressed,
    encoding: "gzip",
    how: "deflated body labelled gzip",
    status: 415,
  };
};

/** Each mutation, as often as it is worth: the open-ended ones more often. */
const WEIGHTED: Mutation[] = [
  ...Array(4).fill(bodyBitFlips),
  ...Array(4).fill(msgBitFlips),
  ...Array(2).fill(msgTruncated),
  ...Array(2).fill(foreignActor),
  ...Array(2).fill(foreignDocuments),
  ...Array(2).fill(hugeCount),
  ...Array(2).fill(wrongType),
  bodyTruncated,
  trailingBytes,
  itemDuplicated,
  itemsReordered,
  manyItems,
  deepNesting,
  otherClock,
  deflated,
];
