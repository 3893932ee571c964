/**
 * Malformed input on every endpoint of a real site: random bytes, truncated
 * and wrongly shaped CBOR, sync messages that are not Automerge's, bodies
 * over each route's limit (with and without a Content-Length), wrong
 * content types, invalid JSON, invalid fields and query parameters.
 *
 * Every answer must be a 4xx (never a 5xx) with a JSON body
 * `{error: {code, message}}` whose message says what was wrong; every table
 * the site keeps must be exactly as it was; and the site must still answer
 * `GET /v1/health` at the end. Random mutations of valid batches, checked
 * against a site that got only the valid traffic, are in `site_sync_fuzz`.
 */
import * as A from "@automerge/automerge";
import { encode } from "cbor-x";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { usageDocId } from "../model/doc_id.ts";
import type { Rule } from "../model/rule.ts";
import {
  CBOR_TYPE,
  MAX_SYNC_BODY_BYTES,
  MAX_SYNC_ITEMS,
  type SyncItem,
} from "../sync/sync_batch.ts";
import {
  enrollFakeAgent,
  type FakeAgent,
  fullMessage,
  itemFor,
  newRecordDoc,
  sendBatch,
  session,
  writeSessions,
} from "./helpers/fake_agent.ts";
import { tempDir } from "./helpers/metered_program.ts";
import { type SiteHandle, startSite } from "./helpers/meter_process.ts";
import { addRule, makeToken } from "./helpers/site_api.ts";
import { SeededRandom } from "../lib/seeded_random.ts";
import { settledSnapshot, snapshotTables, type TablesSnapshot } from "./helpers/site_tables.ts";

const DAY1 = "2026-04-01";
const DAY2 = "2026-04-02";
const JSON_LIMIT = 64 * 1024;
const ENROLL_LIMIT = 4096;

/** What the cases need, filled in by `beforeAll`. */
const ctx = {} as {
  site: SiteHandle;
  admin: string;
  viewer: string;
  enroll: string;
  agent: FakeAgent;
  rule: Rule;
  /** A valid batch of two usage documents, already accepted once. */
  batch: SyncItem[];
  baseline: TablesSnapshot;
};

// ---- requests ---------------------------------------------------------------

function request(
  method: string,
  path: string,
  { body, type, auth }: { body?: BodyInit; type?: string; auth?: string } = {},
): Promise<Response> {
  const headers: Record<string, string> = {};
  if (type) headers["content-type"] = type;
  if (auth) headers.authorization = auth;
  return fetch(new URL(path, ctx.site.url), { method, headers, body });
}

const bearer = (token: string) => `Bearer ${token}`;

/** Posts to `/v1/sync`; `type` "" sends no content type. */
function sync(body: BodyInit, type = CBOR_TYPE, auth = ctx.agent.authorization) {
  return request("POST", "/v1/sync", { body, type: type || undefined, auth });
}

const syncBatch = (items: SyncItem[]) => sync(cbor({ items }));

function sendJson(
  method: string,
  path: string,
  body: BodyInit,
  token: string,
  type = "application/json",
) {
  return request(method, path, { body, type, auth: bearer(token) });
}

const enroll = (body: BodyInit, type?: string) =>
  sendJson("POST", "/v1/enroll", body, ctx.enroll, type);
const postRule = (body: BodyInit, type?: string) =>
  sendJson("POST", "/v1/rules", body, ctx.admin, type);
const patchRule = (body: BodyInit, type?: string, id = ctx.rule.id) =>
  sendJson("PATCH", `/v1/rules/${id}`, body, ctx.admin, type);
const get = (path: string, token = ctx.admin) => request("GET", path, { auth: bearer(token) });

const cbor = (value: unknown) => encode(value) as Uint8Array<ArrayBuffer>;
const text = (value: unknown) => JSON.stringify(value);

/** A body of `size` bytes streamed in chunks, so no Content-Length is sent. */
function streamOf(size: number): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= size) return controller.close();
      const chunk = new Uint8Array(Math.min(64 * 1024, size - sent)).fill(0xa0);
      sent += chunk.length;
      controller.enqueue(chunk);
    },
  });
}

// ---- forged sync content ----------------------------------------------------

function usageDoc(day: string) {
  const start = Date.parse(`${day}T08:00:00Z`);
  return writeSessions(newRecordDoc(ctx.agent.actor), day, [
    session({ id: `${day}/0`, ruleId: ctx.rule.id, user: "carol", start, end: start + 30_000 }),
    session({ id: `${day}/1`, ruleId: ctx.rule.id, user: "dave", start: start + 1_000, end: null }),
  ]);
}

/**
 * A well-formed sync message whose change bytes are corrupted (bad
 * checksum): its only change, or the second of two (which Automerge alone
 * would drop silently, with the intact first, instead of failing).
 */
function corruptChangeMessage(day: string, { later = false } = {}): Uint8Array {
  let doc = usageDoc(day);
  if (later) {
    const start = Date.parse(`${day}T09:00:00Z`);
    doc = writeSessions(doc, day, [
      session({ id: `${day}/2`, ruleId: ctx.rule.id, user: "erin", start, end: start + 5_000 }),
    ]);
  }
  const decoded = A.decodeSyncMessage(fullMessage(doc));
  const changes = decoded.changes.map((c) => c.slice());
  const change = changes[changes.length - 1];
  change[change.length - 3] ^= 0x55;
  return A.encodeSyncMessage({ ...decoded, changes });
}

// ---- the cases ----------------------------------------------------------------

interface Case {
  name: string;
  status: number;
  /** The error message must match this: it says what was wrong. */
  message: RegExp;
  send: () => Promise<Response>;
}

const random = new SeededRandom(20261127);
const randomBodies = [1, 7, 64, 1000, 20_000].map((n) => random.bytes(n));

const syncCases: Case[] = [
  ...randomBodies.map((bytes): Case => ({
    name: `sync: ${bytes.length} random bytes`,
    status: 400,
    message: /CBOR|invalid sync body/,
    send: () => sync(bytes as Uint8Array<ArrayBuffer>),
  })),
  ...[1, 0.5, 0.9].map((part): Case => ({
    name: `sync: a valid batch truncated to ${part * 100}%`,
    status: 400,
    message: /not valid CBOR/,
    send: () => {
      const body = cbor({ items: ctx.batch });
      return sync(body.slice(0, part === 1 ? body.length - 1 : Math.floor(body.length * part)));
    },
  })),
  { name: "sync: empty body", status: 400, message: /CBOR/, send: () => sync(new Uint8Array()) },
  { name: "sync: a number", status: 400, message: /invalid sync body/, send: () => sync(cbor(42)) },
  {
    name: "sync: a list",
    status: 400,
    message: /invalid sync body/,
    send: () => sync(cbor([1, 2])),
  },
  { name: "sync: no items", status: 400, message: /items/, send: () => sync(cbor({})) },
  {
    name: "sync: items not a list",
    status: 400,
    message: /items/,
    send: () => sync(cbor({ items: "x" })),
  },
  {
    name: "sync: an unknown field",
    status: 400,
    message: /Unrecognized key.*extra/,
    send: () => sync(cbor({ items: ctx.batch, extra: 1 })),
  },
  {
    name: "sync: msg as text",
    status: 400,
    message: /msg must be a byte string/,
    send: () => syncBatch([{ doc: ctx.batch[0].doc, msg: "hello" as unknown as Uint8Array }]),
  },
  {
    name: "sync: an empty msg",
    status: 400,
    message: /msg is empty/,
    send: () => syncBatch([{ doc: ctx.batch[0].doc, msg: new Uint8Array() }]),
  },
  {
    name: "sync: not a document id",
    status: 400,
    message: /not a Meter document id/,
    send: () => syncBatch([{ doc: "usage/../../etc/passwd", msg: ctx.batch[0].msg }]),
  },
  {
    name: "sync: a day that does not exist",
    status: 400,
    message: /not a Meter document id/,
    send: () =>
      syncBatch([{ doc: `usage/${ctx.agent.clientId}/2026-02-30`, msg: ctx.batch[0].msg }]),
  },
  {
    name: `sync: more than ${MAX_SYNC_ITEMS} items`,
    status: 400,
    message: /items/,
    send: () =>
      syncBatch(
        Array.from({ length: MAX_SYNC_ITEMS + 1 }, (_, i) => ({
          doc: usageDocId(
            ctx.agent.clientId,
            new Date(Date.UTC(2020, 0, 1 + i)).toISOString().slice(0, 10),
          ),
          msg: ctx.batch[0].msg,
        })),
      ),
  },
  {
    name: "sync: the same document twice",
    status: 400,
    message: /twice/,
    send: () => syncBatch([ctx.batch[0], ctx.batch[0]]),
  },
  ...randomBodies.slice(0, 3).map((bytes): Case => ({
    name: `sync: msg of ${bytes.length} random bytes`,
    status: 400,
    message: /is not an Automerge sync message/,
    send: () => syncBatch([{ doc: ctx.batch[0].doc, msg: bytes }]),
  })),
  {
    name: "sync: msg is a saved document, not a sync message",
    status: 400,
    message: /is not an Automerge sync message/,
    send: () =>
      syncBatch([{ doc: usageDocId(ctx.agent.clientId, DAY2), msg: A.save(usageDoc(DAY2)) }]),
  },
  {
    name: "sync: a sync message whose change is corrupted",
    status: 400,
    message: /usage\/.*Automerge/,
    send: () =>
      syncBatch([{ doc: usageDocId(ctx.agent.clientId, DAY2), msg: corruptChangeMessage(DAY2) }]),
  },
  {
    name: "sync: a sync message whose later change is corrupted",
    status: 400,
    message: /usage\/.*corrupt Automerge change/,
    send: () =>
      syncBatch([{
        doc: usageDocId(ctx.agent.clientId, DAY2),
        msg: corruptChangeMessage(DAY2, { later: true }),
      }]),
  },
  {
    name: "sync: a valid item beside one whose change is corrupted",
    status: 400,
    message: /Automerge/,
    send: () =>
      syncBatch([
        itemFor(usageDocId(ctx.agent.clientId, "2026-04-03"), usageDoc("2026-04-03")),
        { doc: usageDocId(ctx.agent.clientId, DAY2), msg: corruptChangeMessage(DAY2) },
      ]),
  },
  {
    name: `sync: a body over ${MAX_SYNC_BODY_BYTES} bytes`,
    status: 413,
    message: new RegExp(`larger than this endpoint accepts \\(${MAX_SYNC_BODY_BYTES} bytes\\)`),
    send: () => sync(new Uint8Array(MAX_SYNC_BODY_BYTES + 1)),
  },
  {
    name: "sync: a streamed body over the limit, without Content-Length",
    status: 413,
    message: /larger than this endpoint accepts/,
    send: () => sync(streamOf(MAX_SYNC_BODY_BYTES + 100)),
  },
  {
    name: "sync: JSON content type",
    status: 415,
    message: /application\/cbor/,
    send: () => sync(cbor({ items: ctx.batch }), "application/json"),
  },
  {
    name: "sync: no content type",
    status: 415,
    message: /application\/cbor/,
    send: () => sync(cbor({ items: ctx.batch }), ""),
  },
  {
    name: "sync: no credentials",
    status: 401,
    message: /Authorization: Bearer/,
    send: () => request("POST", "/v1/sync", { body: cbor({ items: ctx.batch }), type: CBOR_TYPE }),
  },
  {
    name: "sync: an unknown client",
    status: 401,
    message: /unknown client credential/,
    send: () => sync(cbor({ items: ctx.batch }), CBOR_TYPE, "Bearer nobody.secret"),
  },
  {
    name: "sync: the right client with a wrong secret",
    status: 401,
    message: /unknown client credential/,
    send: () => sync(cbor({ items: ctx.batch }), CBOR_TYPE, `Bearer ${ctx.agent.clientId}.wrong`),
  },
  {
    name: "sync: an admin token instead of a client credential",
    status: 401,
    message: /unknown client credential/,
    send: () => sync(cbor({ items: ctx.batch }), CBOR_TYPE, bearer(ctx.admin)),
  },
];

const validEnrol = () => ({ hostName: "bad-input-host", actor: "0".repeat(32) });

/** Bad bodies every JSON route must refuse alike. */
function jsonBodyCases(
  route: string,
  send: (body: BodyInit, type?: string) => Promise<Response>,
  limit: number,
  valid: () => unknown,
): Case[] {
  return [
    {
      name: `${route}: random bytes`,
      status: 400,
      message: /not valid JSON/,
      send: () => send(randomBodies[2] as Uint8Array<ArrayBuffer>),
    },
    {
      name: `${route}: truncated JSON`,
      status: 400,
      message: /not valid JSON/,
      send: () => send(text(valid()).slice(0, -2)),
    },
    {
      name: `${route}: an empty body`,
      status: 400,
      message: /not valid JSON/,
      send: () => send(""),
    },
    {
      name: `${route}: CBOR of a valid body`,
      status: 400,
      message: /not valid JSON/,
      send: () => send(cbor(valid())),
    },
    { name: `${route}: a list`, status: 400, message: /invalid body/, send: () => send("[]") },
    { name: `${route}: null`, status: 400, message: /invalid body/, send: () => send("null") },
    {
      name: `${route}: an unknown field`,
      status: 400,
      message: /Unrecognized key.*"surprise"/,
      send: () => send(text({ ...valid() as object, surprise: true })),
    },
    {
      name: `${route}: a body over ${limit} bytes`,
      status: 413,
      message: new RegExp(`larger than this endpoint accepts \\(${limit} bytes\\)`),
      send: () => send(text(valid()) + " ".repeat(limit)),
    },
    {
      name: `${route}: a streamed body over ${limit} bytes`,
      status: 413,
      message: /larger than this endpoint accepts/,
      send: () => send(streamOf(limit + 1)),
    },
    {
      name: `${route}: text/plain content type`,
      status: 415,
      message: /application\/json/,
      send: () => send(text(valid()), "text/plain"),
    },
    {
      name: `${route}: CBOR content type`,
      status: 415,
      message: /application\/json/,
      send: () => send(cbor(valid()), CBOR_TYPE),
    },
  ];
}

const enrollCases: Case[] = [
  ...jsonBodyCases("enroll", enroll, ENROLL_LIMIT, validEnrol),
  {
    name: "enroll: no fields",
    status: 400,
    message: /hostName[\s\S]*actor|actor[\s\S]*hostName/,
    send: () => enroll("{}"),
  },
  {
    name: "enroll: an empty host name",
    status: 400,
    message: /hostName/,
    send: () => enroll(text({ ...validEnrol(), hostName: "  " })),
  },
  {
    name: "enroll: an actor that is not 32 hex digits",
    status: 400,
    message: /actor is an Automerge actor id/,
    send: () => enroll(text({ ...validEnrol(), actor: "ABCDEF".repeat(6).slice(0, 32) })),
  },
  {
    name: "enroll: an actor already bound to a client",
    status: 409,
    message: /bound to another client/,
    send: () => enroll(text({ ...validEnrol(), actor: ctx.agent.actor })),
  },
  {
    name: "enroll: no token",
    status: 401,
    message: /Authorization: Bearer/,
    send: () =>
      request("POST", "/v1/enroll", { body: text(validEnrol()), type: "application/json" }),
  },
  {
    name: "enroll: a viewer token",
    status: 403,
    message: /viewer token may not/,
    send: () => sendJson("POST", "/v1/enroll", text(validEnrol()), ctx.viewer),
  },
];

const validRule = () => ({ name: "Bad input", fileName: "bad-input" });

const rulesCases: Case[] = [
  ...jsonBodyCases("create rule", postRule, JSON_LIMIT, validRule),
  ...jsonBodyCases("change rule", patchRule, JSON_LIMIT, () => ({ comment: "changed" })),
  { name: "create rule: no fields", status: 400, message: /name/, send: () => postRule("{}") },
  {
    name: "create rule: a number for a name",
    status: 400,
    message: /name/,
    send: () => postRule(text({ ...validRule(), name: 5 })),
  },
  {
    name: "create rule: nothing to match on",
    status: 400,
    message: /fileName, originalFileName, sha256/,
    send: () => postRule(text({ name: "Nothing" })),
  },
  {
    name: "create rule: a name over 200 characters",
    status: 400,
    message: /name/,
    send: () => postRule(text({ ...validRule(), name: "n".repeat(201) })),
  },
  {
    name: "change rule: an empty change",
    status: 400,
    message: /changes nothing/,
    send: () => patchRule("{}"),
  },
  {
    name: "change rule: removing the last thing to match on",
    status: 400,
    message: /fileName, originalFileName, sha256/,
    send: () => patchRule(text({ fileName: null })),
  },
  {
    name: "change rule: not a rule id",
    status: 400,
    message: /not a rule id/,
    send: () => patchRule(text({ comment: "x" }), undefined, "nonsense"),
  },
  {
    name: "change rule: no such rule",
    status: 404,
    message: /no rule S01-999999/,
    send: () => patchRule(text({ comment: "x" }), undefined, "S01-999999"),
  },
  {
    name: "delete rule: not a rule id",
    status: 400,
    message: /not a rule id/,
    send: () => request("DELETE", "/v1/rules/%E0%A4%A", { auth: bearer(ctx.admin) }),
  },
  {
    name: "delete rule: no such rule",
    status: 404,
    message: /no rule S01-999999/,
    send: () => request("DELETE", "/v1/rules/S01-999999", { auth: bearer(ctx.admin) }),
  },
  {
    name: "create rule: a viewer token",
    status: 403,
    message: /viewer token may not/,
    send: () => sendJson("POST", "/v1/rules", text(validRule()), ctx.viewer),
  },
];

const queryCases: Case[] = [
  ["from=yesterday", /from/],
  ["to=2026-13-45", /to/],
  ["from=", /from/],
  ["limit=0", /limit/],
  ["limit=-5", /limit/],
  ["limit=abc", /limit/],
  ["limit=1.5", /limit/],
  ["limit=100001", /limit/],
  ["order=sideways", /order/],
  ["format=xml", /format/],
  ["cursor=not-a-cursor", /cursor/],
  [`cursor=${btoa(JSON.stringify(["a", 1, 2]))}`, /cursor/],
  [`cursor=${"A".repeat(501)}`, /cursor/],
  ["rule=" + "R".repeat(65), /rule/],
  ["user=" + "u".repeat(257), /user/],
  ["surprise=1", /surprise/],
  ["from=%E0%A4%A", /from/],
].map(([query, message]): Case => ({
  name: `GET /v1/usage?${String(query).slice(0, 40)}`,
  status: 400,
  message: message as RegExp,
  send: () => get(`/v1/usage?${query}`),
}));

const getCases: Case[] = [
  ...queryCases,
  {
    name: "GET /v1/rules?format=xml",
    status: 400,
    message: /format/,
    send: () => get("/v1/rules?format=xml"),
  },
  {
    name: "GET /v1/clients?format=xml",
    status: 400,
    message: /format/,
    send: () => get("/v1/clients?format=xml"),
  },
  {
    name: "GET /v1/rules/<not an id>",
    status: 400,
    message: /not a rule id/,
    send: () => get("/v1/rules/S01-x"),
  },
  {
    name: "GET /v1/rules/<no such rule>",
    status: 404,
    message: /no rule S01-424242/,
    send: () => get("/v1/rules/S01-424242"),
  },
  {
    name: "GET /v1/usage with no token",
    status: 401,
    message: /Authorization: Bearer/,
    send: () => request("GET", "/v1/usage"),
  },
  {
    name: "GET /v1/usage with an unknown token",
    status: 401,
    message: /unknown token/,
    send: () => get("/v1/usage", "mtr_nope"),
  },
  {
    name: "GET /v1/usage with an enroll token",
    status: 403,
    message: /enroll token may not/,
    send: () => get("/v1/usage", ctx.enroll),
  },
  {
    name: "GET of an unknown path",
    status: 404,
    message: /no route GET \/v1\/nothing/,
    send: () => get("/v1/nothing"),
  },
  {
    name: "PUT /v1/rules (no such method)",
    status: 404,
    message: /no route PUT \/v1\/rules/,
    send: () =>
      request("PUT", "/v1/rules", {
        auth: bearer(ctx.admin),
        body: "{}",
        type: "application/json",
      }),
  },
];

// ---- the tests -----------------------------------------------------------------

async function expectClientError(c: Case): Promise<void> {
  const response = await c.send();
  const body = await response.text();
  const what = `${c.name}: ${response.status} ${body.slice(0, 300)}`;
  expect(response.status, what).toBeGreaterThanOrEqual(400);
  expect(response.status, what).toBeLessThan(500);
  expect(response.status, what).toBe(c.status);
  expect(response.headers.get("content-type"), what).toMatch(/^application\/json/);
  const parsed = JSON.parse(body);
  expect(Object.keys(parsed), what).toEqual(["error"]);
  expect(typeof parsed.error.code, what).toBe("string");
  expect(parsed.error.code.length, what).toBeGreaterThan(0);
  expect(parsed.error.message, what).toMatch(c.message);
}

describe("malformed input on every endpoint", () => {
  let temp: Awaited<ReturnType<typeof tempDir>>;

  beforeAll(async () => {
    temp = await tempDir("meter-malformed-");
    ctx.site = await startSite(temp.dir);
    ctx.admin = await makeToken(ctx.site.db, "admin");
    ctx.viewer = await makeToken(ctx.site.db, "viewer");
    ctx.enroll = await makeToken(ctx.site.db, "enroll");
    ctx.agent = await enrollFakeAgent(ctx.site.url, ctx.enroll, "malformed-host");
    ctx.rule = await addRule(ctx.site.url, ctx.admin, { name: "Target", fileName: "target" });
    ctx.batch = [
      itemFor(usageDocId(ctx.agent.clientId, DAY1), usageDoc(DAY1)),
      itemFor(usageDocId(ctx.agent.clientId, "2026-04-05"), usageDoc("2026-04-05")),
    ];
    const first = await sendBatch(ctx.site.url, ctx.agent, ctx.batch);
    if (first.status !== 200) {
      throw new Error(`the valid batch was refused: ${JSON.stringify(first)}`);
    }
    ctx.baseline = await settledSnapshot(ctx.site.url, ctx.admin, ctx.site.db);
    expect(ctx.baseline.usageSessions).toHaveLength(4);
  });

  afterAll(async () => {
    await ctx.site?.process.stop();
    await temp?.remove();
  });

  const all = [...syncCases, ...enrollCases, ...rulesCases, ...getCases];

  test.each(all.map((c) => [c.name, c] as const))("%s", async (_name, c) => {
    const before = await snapshotTables(ctx.site.db);
    await expectClientError(c);
    expect(await snapshotTables(ctx.site.db)).toEqual(before);
  });

  test("no refusal was answered with a 5xx, nothing was stored, and the site is healthy", async () => {
    expect(await settledSnapshot(ctx.site.url, ctx.admin, ctx.site.db)).toEqual(ctx.baseline);
    const health = await request("GET", "/v1/health");
    expect(health.status).toBe(200);
    expect((await health.json()).status).toBe("ok");
    expect(ctx.site.process.logged("request failed")).toEqual([]);
  });
});
