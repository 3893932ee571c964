/**
 * A bounded fuzz of `POST /v1/sync` against real site processes: valid sync
 * batches are mutated (bit flips, truncation, duplicated and reordered
 * documents, CBOR length headers of 2^32 and 2^62, deep nesting, wrong types,
 * deflate bombs, Automerge messages of one agent sent for or under the
 * documents of another; see `helpers/sync_mutations.ts`) and sent to a
 * running site between the batches of valid traffic. Every answer must be a
 * 2xx or a 4xx (never a 5xx, a dropped connection or no answer within
 * 10 s), the site must stay up, and afterwards its stored documents and
 * tables must be exactly what the valid traffic alone produced.
 *
 * "What the valid traffic alone produced" is measured, not assumed: two
 * sites start from one database file (same site actor, tokens, rules and
 * enrolled agents, so the same credentials and document ids work on both).
 * Site A gets only the valid traffic, site B the same valid traffic with
 * the mutants in between (some sent at the same time as a valid batch, so
 * that refused and accepted batches share a group commit). Then A and B are
 * compared: every document (heads, changes, content, stored chunks),
 * `usage_sessions`, `summary_pending`, `rules`, `clients`, `client_actors`,
 * `tokens`, `software` and `software_files`. Left out, because they differ
 * by design: wall-clock columns (`updated_at`, `last_sync_at`,
 * `last_used_at`), the clock offset measured from each accepted request's
 * `now` (a repeated batch with another `now` is an agent reporting its
 * clock, and is recorded as such), `sync_states` (the site's view of what a
 * peer has, which every accepted request may move) and `audit_log` (every
 * 401 and 403 is recorded there).
 *
 * A mutant can be valid: a flipped byte may turn `2026-11-25` into
 * `2026-11-27` and so send an agent's real message for one day under its own
 * document of another day. That is an authorised write the site must
 * accept, and it would rightly make B differ from A. So, before a mutant is
 * sent, it is read as the site reads it and each item the sender may write
 * is applied to a copy of the document as B holds it: a mutant that would
 * add changes, all made by the sender's own actor, is not sent (it is
 * counted as skipped). Everything else either adds nothing (mutations start
 * only from batches B has already stored, so any change they still carry is
 * one B holds) or carries a foreign actor's change, which must be refused.
 * An Automerge change carries a checksum, so a flipped bit cannot make a new
 * valid change by chance (one in 2^32). (A flip inside a message's second or
 * later change is answered 200 today: Automerge then applies none of the
 * message's changes and reports no error, so nothing is stored.)
 *
 * The seed is random per run, printed at the start and in every failure;
 * `FUZZ_SEED=<n>` replays a run. `FUZZ_COUNT` (default 1000 mutants) and
 * `FUZZ_SECONDS` (default 20) bound it; whichever ends first stops the
 * mutants, and the rest of the valid traffic is still sent.
 */
import * as A from "@automerge/automerge";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { generationActor, isActorOf } from "../model/actor_id.ts";
import { decompressBody } from "../sync/body_compression.ts";
import { encodeFacts, FACTS_KEY } from "../model/client_facts.ts";
import type { Client } from "../store/db.ts";
import { DocStore } from "../store/doc_store.ts";
import {
  DAY_MS,
  dayOf,
  dayStart,
  inventoryDocId,
  parseDocId,
  rulesDocId,
  usageDocId,
} from "../model/doc_id.ts";
import { encodeProduct } from "../model/inventory_record.ts";
import type { Rule } from "../model/rule.ts";
import {
  CBOR_TYPE,
  decodeSyncBody,
  encodeSyncBody,
  MAX_SYNC_BODY_BYTES,
  type SyncItem,
  syncReplySchema,
  syncRequestSchema,
} from "../sync/sync_batch.ts";
import type { UsageSession } from "../model/usage_record.ts";
import {
  enrollFakeAgent,
  type FakeAgent,
  itemFor,
  newRecordDoc,
  type RecordDoc,
  session,
  writeSessions,
} from "./helpers/fake_agent.ts";
import { tempDir } from "./helpers/metered_program.ts";
import { type SiteHandle, startSite } from "./helpers/meter_process.ts";
import { SeededRandom } from "../lib/seeded_random.ts";
import { addRule, api, makeToken } from "./helpers/site_api.ts";
import { settledSnapshot, withSiteDb } from "./helpers/site_tables.ts";
import { type Mutant, mutateBatch, type SentBatch } from "./helpers/sync_mutations.ts";

const SEED = Number(Deno.env.get("FUZZ_SEED") ?? Math.floor(Math.random() * 2 ** 32));
const COUNT = Number(Deno.env.get("FUZZ_COUNT") ?? 1000);
const SECONDS = Number(Deno.env.get("FUZZ_SECONDS") ?? 20);
const REQUEST_TIMEOUT_MS = 10_000;
/** Requests in flight at once on site B. */
const WAVE = 4;
const HOUR = 3_600_000;
const MINUTE = 60_000;
const STEPS = 5;

const seedNote = `FUZZ_SEED=${SEED}`;

/** What the tests share, filled in by `beforeAll` and the fuzz. */
const ctx = {} as {
  a: SiteHandle;
  b: SiteHandle;
  admin: string;
  rules: Rule[];
  fleet: FleetAgent[];
  /** Session ids the valid traffic wrote, per client. */
  written: Map<string, Set<string>>;
  trafficDone: boolean;
};

// ---- the valid traffic: three agents, five steps each ---------------------------------

interface FleetAgent {
  agent: FakeAgent;
  index: number;
  docs: Map<string, RecordDoc>;
}

/** Three past UTC days, within the site's raw retention. */
const DAYS = [3, 2, 1].map((n) => dayOf(dayStart(dayOf(Date.now())) - n * DAY_MS));

function sessionAt(f: FleetAgent, day: string, n: number, fields: Partial<UsageSession>) {
  const start = dayStart(day) + (8 + n + f.index) * HOUR;
  return session({
    id: `${day}/${n}`,
    ruleId: ctx.rules[n % 2].id,
    user: `user-${f.index}-${n % 2}`,
    start,
    end: start + (10 + n) * MINUTE,
    pid: 1000 * (f.index + 1) + n,
    ...fields,
  });
}

/** A new document of the agent, written by a generation of its actor as the real agent does. */
const newDoc = (f: FleetAgent) => newRecordDoc(generationActor(f.agent.actor, f.docs.size));

/** Writes sessions into the agent's usage document of `day` and returns its item. */
function usage(f: FleetAgent, day: string, sessions: UsageSession[]): SyncItem {
  const id = usageDocId(f.agent.clientId, day);
  const doc = writeSessions(f.docs.get(id) ?? newDoc(f), day, sessions);
  f.docs.set(id, doc);
  for (const s of sessions) ctx.written.get(f.agent.clientId)!.add(s.id);
  return itemFor(id, doc);
}

function inventory(f: FleetAgent, osVersion: string, products: string[]): SyncItem {
  const id = inventoryDocId(f.agent.clientId);
  const doc = A.change(f.docs.get(id) ?? newDoc(f), (d) => {
    d[FACTS_KEY] = encodeFacts({
      hostName: f.agent.hostName,
      osName: "Debian",
      osVersion,
      kernel: "6.1",
      arch: "x86_64",
      timeZone: "Europe/Paris",
      agentVersion: "fuzz",
    });
    for (const name of products) {
      d[`dpkg/${name}:amd64`] = encodeProduct({
        name,
        version: `1.${f.index}`,
        publisher: "Fuzz",
        source: "dpkg",
        installedAt: null,
        files: [{ path: `/usr/bin/${name}`, sha256: null }],
      });
    }
  });
  f.docs.set(id, doc);
  return itemFor(id, doc);
}

const item = (f: FleetAgent, id: string) => itemFor(id, f.docs.get(id)!);

/**
 * Step `k` of an agent's traffic: its inventory and the rules it reads; a day
 * with a running session; a second day with a second program; the running
 * session ended and another added (the second day sent again, unchanged);
 * a third day and a changed inventory.
 */
function step(f: FleetAgent, k: number): SyncItem[] {
  const [d1, d2, d3] = DAYS;
  switch (k) {
    case 0:
      return [inventory(f, "12", ["editor"]), itemFor(rulesDocId("S01"), A.init())];
    case 1:
      return [usage(f, d1, [sessionAt(f, d1, 0, {}), sessionAt(f, d1, 1, { end: null })])];
    case 2:
      return [usage(f, d2, [sessionAt(f, d2, 0, {}), sessionAt(f, d2, 1, { version: "2.0" })])];
    case 3: {
      const ended = sessionAt(f, d1, 1, { end: dayStart(d1) + 20 * HOUR });
      const day1 = usage(f, d1, [ended, sessionAt(f, d1, 2, { remote: true })]);
      return [day1, item(f, usageDocId(f.agent.clientId, d2))];
    }
    default:
      return [
        inventory(f, "13", ["editor", "viewer"]),
        usage(f, d3, [
          sessionAt(f, d3, 0, { startNotCaptured: true }),
          sessionAt(f, d3, 1, { endNotCaptured: true }),
        ]),
      ];
  }
}

// ---- requests -------------------------------------------------------------------

interface Answer {
  status: number;
  bytes: Uint8Array;
}

async function post(
  site: SiteHandle,
  sender: FakeAgent,
  body: Uint8Array,
  encoding?: string,
): Promise<Answer> {
  const headers: Record<string, string> = {
    authorization: sender.authorization,
    "content-type": CBOR_TYPE,
    accept: CBOR_TYPE,
  };
  if (encoding) headers["content-encoding"] = encoding;
  const response = await fetch(new URL("/v1/sync", site.url), {
    method: "POST",
    headers,
    body: body as Uint8Array<ArrayBuffer>,
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  return { status: response.status, bytes: new Uint8Array(await response.arrayBuffer()) };
}

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes.slice(0, 300));

/** What is wrong with an answer, or `undefined`: 2xx with a CBOR reply, or 4xx with an error. */
function wrongAnswer(answer: Answer, status?: number): string | undefined {
  if (status !== undefined && answer.status !== status) {
    return `answered ${answer.status}, not ${status}: ${text(answer.bytes)}`;
  }
  if (answer.status >= 200 && answer.status < 300) {
    try {
      decodeSyncBody(answer.bytes, syncReplySchema);
      return undefined;
    } catch (error) {
      return `a ${answer.status} whose body is not a sync reply: ${(error as Error).message}`;
    }
  }
  if (answer.status < 400 || answer.status >= 500) {
    return `answered ${answer.status}: ${text(answer.bytes)}`;
  }
  try {
    const { error } = JSON.parse(new TextDecoder().decode(answer.bytes));
    return error?.code && error?.message ? undefined : `a ${answer.status} without an error`;
  } catch {
    return `a ${answer.status} whose body is not JSON: ${text(answer.bytes)}`;
  }
}

const bodyOf = (batch: SentBatch) => ({ items: batch.items, now: batch.now });

/** Sends a valid batch; anything but 200 is a failure of the test, not of the fuzz. */
async function sendValid(site: SiteHandle, batch: SentBatch): Promise<void> {
  const what = `${seedNote}: the valid batch of ${batch.agent.hostName} (${
    batch.items.map((i) => i.doc).join(", ")
  }) to site ${site === ctx.a ? "A" : "B"}`;
  let wrong: string | undefined;
  try {
    wrong = wrongAnswer(await post(site, batch.agent, encodeSyncBody(bodyOf(batch))), 200);
  } catch (error) {
    wrong = `no answer: ${(error as Error).message}`;
  }
  if (wrong) throw new Error(`${what}: ${wrong}\nsite log:\n${site.process.tail(10)}`);
}

// ---- which mutants may be sent ---------------------------------------------------------

/**
 * Why the site would rightly store something of this mutant, or `undefined`:
 * an item of a document the sender may write whose message, applied to the
 * document as site B holds it, adds changes made only by the sender's actor.
 */
function authorisedWrite(m: Mutant, heldByB: ReadonlyMap<string, A.Doc<unknown>>) {
  let items: SyncItem[];
  try {
    const bytes = decompressBody(m.body, m.encoding ?? null, MAX_SYNC_BODY_BYTES);
    items = decodeSyncBody(bytes, syncRequestSchema).items;
  } catch {
    return undefined; // the site cannot read it either
  }
  const own = new Set([m.sender.actor]);
  for (const { doc: docId, msg } of items) {
    const id = parseDocId(docId);
    if (id?.kind !== "usage" && id?.kind !== "inventory") continue;
    if (id.client !== m.sender.clientId) continue;
    const held = heldByB.get(docId);
    const copy = held ? A.clone(held) : A.init();
    const heads = A.getHeads(copy);
    try {
      const [after] = A.receiveSyncMessage(copy, A.initSyncState(), msg);
      const added = A.getChangesMetaSince(after, heads);
      if (added.length > 0 && added.every((c) => isActorOf(own, c.actor))) {
        return `${docId} would gain ${added.length} changes of its own agent`;
      }
    } catch {
      // not an Automerge message the site can apply
    }
  }
  return undefined;
}

// ---- the fuzz ---------------------------------------------------------------------

interface FuzzRun {
  rng: SeededRandom;
  sent: SentBatch[];
  /** Each document as site B holds it (a copy of what the valid traffic sent). */
  heldByB: Map<string, A.Doc<unknown>>;
  mutants: number;
  skipped: number;
  statuses: Map<number, number>;
  problems: string[];
  deadline: number;
}

function nextMutant(run: FuzzRun): Mutant | undefined {
  for (let tries = 0; tries < 20; tries++) {
    const mutant = mutateBatch({
      rng: run.rng,
      sent: run.sent,
      agents: ctx.fleet.map((f) => f.agent),
    });
    if (authorisedWrite(mutant, run.heldByB) === undefined) return mutant;
    run.skipped++;
  }
  return undefined;
}

function describeMutant(m: Mutant, n: number): string {
  const head = hex(m.body.slice(0, 40));
  return `${seedNote}, mutant ${n} (${m.how}; from ${m.sender.hostName}, ` +
    `${m.body.length} bytes${m.encoding ? `, ${m.encoding}` : ""}, starting ${head})`;
}

async function sendMutant(run: FuzzRun, m: Mutant): Promise<void> {
  const n = ++run.mutants;
  try {
    const answer = await post(ctx.b, m.sender, m.body, m.encoding);
    run.statuses.set(answer.status, (run.statuses.get(answer.status) ?? 0) + 1);
    const wrong = wrongAnswer(answer, m.status);
    if (wrong) run.problems.push(`${describeMutant(m, n)}: ${wrong}`);
  } catch (error) {
    run.problems.push(`${describeMutant(m, n)}: no answer: ${(error as Error).message}`);
  }
}

/** Up to `n` mutants, `WAVE` at a time, the first wave beside `valid` (sent to B). */
async function waves(run: FuzzRun, n: number, valid: () => Promise<void>): Promise<void> {
  let pending = [valid()];
  for (let left = n;;) {
    const open = run.mutants < COUNT && Date.now() < run.deadline && !ctx.b.process.exited;
    const size = open ? Math.min(WAVE, left) : 0;
    for (let i = 0; i < size; i++) {
      const mutant = nextMutant(run);
      if (mutant) pending.push(sendMutant(run, mutant));
    }
    await Promise.all(pending);
    pending = [];
    left -= size;
    if (size === 0 || left <= 0) return;
  }
}

/** The valid traffic, step by step and agent by agent, with mutants between. */
async function fuzz(run: FuzzRun): Promise<void> {
  const gaps = STEPS * ctx.fleet.length;
  let gap = 0;
  for (let k = 0; k < STEPS; k++) {
    for (const f of ctx.fleet) {
      const batch: SentBatch = { agent: f.agent, items: step(f, k), now: Date.now() };
      await sendValid(ctx.a, batch);
      const budget = Math.ceil((COUNT - run.mutants) / (gaps - gap++));
      // the first gap has nothing to mutate yet: the batch goes alone
      await waves(run, run.sent.length === 0 ? 0 : budget, () => sendValid(ctx.b, batch));
      run.sent.push(batch);
      for (const { doc } of batch.items) {
        if (f.docs.has(doc)) run.heldByB.set(doc, A.clone(f.docs.get(doc)!));
      }
    }
  }
}

// ---- what a site stores ----------------------------------------------------------------

async function rowsOf(db: Client, sql: string): Promise<Record<string, unknown>[]> {
  const result = await db.execute(sql);
  return result.rows.map((row) => Object.fromEntries(result.columns.map((c) => [c, row[c]])));
}

const without = (...columns: string[]) => (row: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(row).filter(([c]) => !columns.includes(c)));

const hex = (bytes: Uint8Array) =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

/** Each stored document loaded: heads, the hashes of its changes, and its content. */
async function documents(db: Client, ids: string[]) {
  const store = new DocStore(db);
  const out: Record<string, unknown> = {};
  for (const id of ids) {
    const doc = (await store.load(id))!;
    out[id] = {
      heads: [...A.getHeads(doc)].sort(),
      changes: A.getAllChanges(doc).map((c) => A.decodeChange(c).hash).sort(),
      content: JSON.stringify(A.toJS(doc), (_k, v) => (v instanceof Uint8Array ? hex(v) : v)),
    };
  }
  return out;
}

/** Everything the valid traffic decides, and nothing that differs by design (see the top). */
async function storedState(site: SiteHandle) {
  const t = await settledSnapshot(site.url, ctx.admin, site.db);
  const chunks: Record<string, string[]> = {};
  for (const row of t.docChunkRows) {
    (chunks[row.doc_id as string] ??= []).push(row.bytes as string);
  }
  return await withSiteDb(site.db, async (db) => ({
    docs: t.docs.map(without("updated_at")),
    chunks,
    documents: await documents(db, t.docs.map((d) => d.doc_id as string)),
    usageSessions: t.usageSessions.map(without("updated_at")),
    summaryPending: await rowsOf(
      db,
      `SELECT rule_id, client_id, start_ms, end_ms, was_running FROM summary_pending
        ORDER BY client_id, rule_id, start_ms, end_ms, was_running`,
    ),
    rules: t.rules,
    clients: t.clients.map(without("last_sync_at", "clock_offset_ms", "clock_checked_at")),
    clientActors: t.clientActors,
    tokens: t.tokens.map(without("last_used_at")),
    software: await rowsOf(db, "SELECT * FROM software ORDER BY client_id, product_key"),
    softwareFiles: await rowsOf(
      db,
      "SELECT * FROM software_files ORDER BY client_id, product_key, path",
    ),
  }));
}

// ---- the sites ----------------------------------------------------------------------

/**
 * One site set up (settings, rules, three enrolled agents) and stopped, its
 * database copied, and two sites started on the two copies.
 */
async function startTwinSites(dir: string): Promise<void> {
  const [dirA, dirB] = [join(dir, "a"), join(dir, "b")];
  await Promise.all([Deno.mkdir(dirA), Deno.mkdir(dirB)]);
  const first = await startSite(dirA);
  ctx.admin = await makeToken(first.db, "admin");
  const enroll = await makeToken(first.db, "enroll");
  const settings = await api(first.url, ctx.admin, "PATCH", "/v1/settings", {
    summarizeIntervalSeconds: 3600, // no summaries during the test
    syncRequestsPerMinute: 1_000_000,
  });
  if (!settings.ok) throw new Error(`settings: ${settings.status} ${await settings.text()}`);
  ctx.rules = [
    await addRule(first.url, ctx.admin, { name: "Editor", fileName: "editor" }),
    await addRule(first.url, ctx.admin, { name: "Viewer", fileName: "viewer" }),
  ];
  ctx.fleet = [];
  ctx.written = new Map();
  for (const index of [0, 1, 2]) {
    const agent = await enrollFakeAgent(first.url, enroll, `fuzz-host-${index}`);
    ctx.fleet.push({ agent, index, docs: new Map() });
    ctx.written.set(agent.clientId, new Set());
  }
  await first.process.stop();
  await Deno.copyFile(first.db, join(dirB, "site-S01.db"));
  await Deno.copyFile(`${first.db}-wal`, join(dirB, "site-S01.db-wal")).catch(() => {});
  [ctx.a, ctx.b] = await Promise.all([startSite(dirA), startSite(dirB)]);
}

const errorLines = (site: SiteHandle) =>
  site.process.logs.filter((line) => line.includes('"level":"error"'));

describe(`sync fuzz (${seedNote})`, () => {
  let temp: Awaited<ReturnType<typeof tempDir>>;

  beforeAll(async () => {
    console.log(`site_sync_fuzz: ${seedNote}, at most ${COUNT} mutants or ${SECONDS} s`);
    temp = await tempDir("meter-sync-fuzz-");
    await startTwinSites(temp.dir);
  }, 90_000);

  afterAll(async () => {
    await Promise.all([ctx.a?.process.stop(), ctx.b?.process.stop()]);
    await temp?.remove();
  });

  test("mutated batches get only 2xx and 4xx answers, and the site stays up", async () => {
    const run: FuzzRun = {
      rng: new SeededRandom(SEED),
      sent: [],
      heldByB: new Map(),
      mutants: 0,
      skipped: 0,
      statuses: new Map(),
      problems: [],
      deadline: Date.now() + SECONDS * 1000,
    };
    const started = Date.now();
    await fuzz(run).then(
      () => (ctx.trafficDone = true),
      (error) => run.problems.unshift((error as Error).message),
    );
    console.log(
      `site_sync_fuzz: ${seedNote}: ${run.mutants} mutants in ${Date.now() - started} ms, ` +
        `${run.skipped} skipped as authorised writes, answers ${
          JSON.stringify(Object.fromEntries(run.statuses))
        }`,
    );
    const site = `\nsite B log:\n${ctx.b.process.tail(15)}`;
    expect(run.problems, `${run.problems.slice(0, 10).join("\n")}${site}`).toEqual([]);
    expect(ctx.b.process.exited, `${seedNote}: site B exited${site}`).toBe(false);
    const health = await fetch(new URL("/v1/health", ctx.b.url), {
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    expect(health.status).toBe(200);
    await health.body?.cancel();
    expect([...errorLines(ctx.a), ...errorLines(ctx.b)], seedNote).toEqual([]);
    // the fuzz reached both outcomes, not only refusals
    expect([...run.statuses.keys()].some((s) => s < 300), seedNote).toBe(true);
    expect([...run.statuses.keys()].some((s) => s >= 400), seedNote).toBe(true);
  }, (SECONDS + 90) * 1000);

  test("site B stores exactly what site A, given only the valid traffic, stores", async () => {
    expect(ctx.trafficDone, "the valid traffic was not all sent").toBe(true);
    const [a, b] = await Promise.all([storedState(ctx.a), storedState(ctx.b)]);
    // site A holds what the agents wrote, so the comparison is not of two empty sites
    for (const [client, ids] of ctx.written) {
      const stored = a.usageSessions.filter((r) => r.client_id === client).map((r) => r.session_id);
      expect(stored.sort()).toEqual([...ids].sort());
    }
    expect(a.software).toHaveLength(6);
    expect(Object.keys(a.documents).filter((id) => id.startsWith("usage/"))).toHaveLength(9);
    for (const key of Object.keys(a) as (keyof typeof a)[]) {
      expect(b[key], `${seedNote}: ${key} differ`).toEqual(a[key]);
    }
  }, 60_000);
});
