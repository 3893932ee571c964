/**
 * What a site refuses on `POST /v1/sync`, and that a refusal stores nothing:
 * a change to the rules an agent may only read, a change to another
 * client's documents, a change to the agent's own document made by an actor
 * not bound to it, and a malformed record each refuse the whole batch (403 or
 * 400, with a message naming the document or record), leave every table as
 * it was (the valid items of the same batch included), and do not wedge the
 * site: a valid batch for the same documents is accepted afterwards.
 *
 * A fake agent enrols through the real API and sends real Automerge sync
 * messages to a real site process.
 */
import * as A from "@automerge/automerge";
import { encode } from "cbor-x";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { inventoryDocId, licencesDocId, rulesDocId, usageDocId } from "../model/doc_id.ts";
import type { Rule } from "../model/rule.ts";
import { encodeRule } from "../model/rule_record.ts";
import { newActorId } from "../lib/secret.ts";
import type { SyncItem } from "../sync/sync_batch.ts";
import {
  enrollFakeAgent,
  type FakeAgent,
  itemFor,
  newRecordDoc,
  type RecordDoc,
  sendBatch,
  session,
  writeSessions,
} from "./helpers/fake_agent.ts";
import { tempDir } from "./helpers/metered_program.ts";
import { type SiteHandle, startSite } from "./helpers/meter_process.ts";
import { addRule, api, makeToken, sessions } from "./helpers/site_api.ts";
import {
  settledSnapshot,
  snapshotTables,
  storedDoc,
  storedDocBytes,
} from "./helpers/site_tables.ts";
import { waitFor } from "./helpers/wait_for.ts";

const DAY1 = "2026-03-01";
const DAY2 = "2026-03-02";
const T1 = Date.parse(`${DAY1}T09:00:00Z`);
const T2 = Date.parse(`${DAY2}T14:30:00Z`);

describe("refused sync writes", () => {
  let temp: Awaited<ReturnType<typeof tempDir>>;
  let site: SiteHandle;
  let admin: string;
  let agent: FakeAgent;
  let other: FakeAgent;
  let rule: Rule;

  beforeAll(async () => {
    temp = await tempDir("meter-refused-");
    site = await startSite(temp.dir);
    admin = await makeToken(site.db, "admin");
    const enroll = await makeToken(site.db, "enroll");
    agent = await enrollFakeAgent(site.url, enroll, "host-a");
    other = await enrollFakeAgent(site.url, enroll, "host-b");
    rule = await addRule(site.url, admin, { name: "Editor", fileName: "editor" });
  });

  afterAll(async () => {
    await site?.process.stop();
    await temp?.remove();
  });

  /** A usage document of `day` for the agent, written by `actor`, with two sessions. */
  function usageDoc(day: string, actor = agent.actor): RecordDoc {
    const start = day === DAY1 ? T1 : T2;
    return writeSessions(newRecordDoc(actor), day, [
      session({ id: `${day}/0`, ruleId: rule.id, user: "alice", start, end: start + 60_000 }),
      session({ id: `${day}/1`, ruleId: rule.id, user: "bob", start: start + 5_000, end: null }),
    ]);
  }

  /**
   * Sends a batch that must be refused with `status` and `code`, with a
   * message containing every fragment, and proves no table changed.
   */
  async function expectRefused(
    from: FakeAgent,
    items: SyncItem[],
    status: number,
    code: string,
    fragments: string[],
  ): Promise<void> {
    const before = await settledSnapshot(site.url, admin, site.db);
    const refusals = site.process.logged("sync batch refused").length;
    const answer = await sendBatch(site.url, from, items);
    expect(answer.status, JSON.stringify(answer.error)).toBe(status);
    expect(answer.error?.code).toBe(code);
    for (const fragment of fragments) expect(answer.error?.message).toContain(fragment);
    expect(await snapshotTables(site.db)).toEqual(before);
    // an operator can find every refusal in the log, with the reason
    await waitFor(
      `the refusal "${answer.error?.message}" in the site's log`,
      () =>
        site.process.logged("sync batch refused").slice(refusals)
          .some((entry) => entry.reason === answer.error?.message),
      { timeoutMs: 5_000, intervalMs: 20 },
    );
  }

  test("the agent may read its site's rules: an announcement without changes is answered", async () => {
    const answer = await sendBatch(site.url, agent, [
      itemFor(rulesDocId("S01"), A.init({ actor: agent.actor })),
    ]);
    expect(answer.status).toBe(200);
  });

  test("(a) a change to rules/S01 from the agent's replica is refused; rules and heads unchanged", async () => {
    const rulesBefore = await (await api(site.url, admin, "GET", "/v1/rules")).json();
    const headsBefore = await storedDoc(site.db, rulesDocId("S01"));
    expect(headsBefore).toBeDefined();

    const stored = await storedDocBytes(site.db, rulesDocId("S01"));
    const replica = A.load<Record<string, Uint8Array>>(stored!, { actor: agent.actor });
    const hijacked = A.change(replica, (d) => {
      d[rule.id] = encodeRule({ ...rule, name: "hijacked", fileName: "*" });
      d["S01-999"] = encodeRule({ ...rule, id: "S01-999", name: "planted" });
    });
    await expectRefused(agent, [itemFor(rulesDocId("S01"), hijacked)], 403, "read_only", [
      "rules/S01",
      "may only read",
    ]);

    // A forged rules document of its own is refused the same way.
    const forged = A.change(newRecordDoc(agent.actor), (d) => {
      d["S01-998"] = encodeRule({ ...rule, id: "S01-998", name: "forged" });
    });
    await expectRefused(agent, [itemFor(rulesDocId("S01"), forged)], 403, "read_only", [
      "rules/S01",
    ]);

    expect(await (await api(site.url, admin, "GET", "/v1/rules")).json()).toEqual(rulesBefore);
    expect(await storedDoc(site.db, rulesDocId("S01"))).toEqual(headsBefore);
  });

  test("(g) an agent may neither read nor write its site's licences: prices are no business of a computer", async () => {
    const made = await api(site.url, admin, "POST", "/v1/licences", {
      name: "Editor seats",
      ruleIds: [rule.id],
      model: "device",
      quantity: 3,
      unitCost: 120,
    });
    expect(made.status).toBe(201);
    const licencesBefore = await (await api(site.url, admin, "GET", "/v1/licences")).json();
    // Even an announcement without changes, which would bring the document back, is refused.
    await expectRefused(
      agent,
      [itemFor(licencesDocId("S01"), A.init({ actor: agent.actor }))],
      403,
      "doc_forbidden",
      ["licences/S01"],
    );
    const stored = await storedDocBytes(site.db, licencesDocId("S01"));
    const replica = A.load<Record<string, Uint8Array>>(stored!, { actor: agent.actor });
    const hijacked = A.change(replica, (d) => {
      for (const key of Object.keys(d)) delete d[key];
    });
    await expectRefused(agent, [itemFor(licencesDocId("S01"), hijacked)], 403, "doc_forbidden", [
      "licences/S01",
    ]);
    expect(await (await api(site.url, admin, "GET", "/v1/licences")).json()).toEqual(
      licencesBefore,
    );
  });

  test("(b) a change to another client's documents is refused; nothing stored", async () => {
    const foreignDocs = [
      usageDocId(other.clientId, DAY1),
      inventoryDocId(other.clientId),
      rulesDocId("S02"),
      `summary/S01/${DAY1}/0`,
    ];
    for (const docId of foreignDocs) {
      // made by the other client's own actor, so only the document id is wrong
      const doc = usageDoc(DAY1, other.actor);
      await expectRefused(agent, [itemFor(docId, doc)], 403, "doc_forbidden", [docId]);
      expect(await storedDoc(site.db, docId)).toBeUndefined();
    }
    expect(await sessions(site.url, admin)).toEqual([]);
  });

  test("a refused batch is in the audit log like any refused request; a stranger's is 401", async () => {
    type Entry = { path: string; status: number; code: string; reason: string; count: number };
    const entries = async () => {
      const response = await api(site.url, admin, "GET", "/v1/audit");
      return ((await response.json()).entries as Entry[]).filter((e) => e.path === "/v1/sync");
    };
    // The refusals of (b): the sync module's own refusal, answered and audited as an API error.
    await waitFor(
      "the refused syncs in the audit log",
      async () => (await entries()).some((e) => e.status === 403 && e.code === "doc_forbidden"),
    );
    const forbidden = (await entries()).filter((e) => e.code === "doc_forbidden");
    expect(forbidden.reduce((n, e) => n + e.count, 0)).toBeGreaterThanOrEqual(4);
    expect(forbidden[0].reason).toContain(`${agent.clientId} may not sync`);
    // A batch with no credential, or an admin token where an agent's belongs, is refused
    // before the batch is read.
    for (const authorization of [undefined, `Bearer ${admin}`]) {
      const response = await fetch(`${site.url}/v1/sync`, {
        method: "POST",
        headers: {
          "content-type": "application/cbor",
          ...(authorization ? { authorization } : {}),
        },
        body: new Uint8Array([0xa0]),
      });
      expect(response.status).toBe(401);
      expect((await response.json()).error.code).toMatch(/^[a-z_]+$/);
    }
    await waitFor(
      "the stranger's syncs in the audit log",
      async () => (await entries()).some((e) => e.status === 401),
    );
  });

  test("(c) a change to the agent's own usage by an actor not bound to it is refused", async () => {
    const docId = usageDocId(agent.clientId, DAY1);
    const stranger = newActorId();
    await expectRefused(agent, [itemFor(docId, usageDoc(DAY1, stranger))], 403, "foreign_actor", [
      docId,
      stranger,
    ]);
    // an actor bound to another client is just as foreign here
    await expectRefused(
      agent,
      [itemFor(docId, usageDoc(DAY1, other.actor))],
      403,
      "foreign_actor",
      [other.actor],
    );
    // the agent's own changes merged with one foreign change: still refused
    const mixed = A.change(A.clone(usageDoc(DAY1), { actor: stranger }), (d) => {
      d["7"] = d["0"];
    });
    await expectRefused(agent, [itemFor(docId, mixed)], 403, "foreign_actor", [stranger]);

    expect(await sessions(site.url, admin)).toEqual([]);
    expect(await storedDoc(site.db, docId)).toBeUndefined();
  });

  test("(d) a batch mixing a valid item with a forbidden one stores neither", async () => {
    const valid = itemFor(usageDocId(agent.clientId, DAY1), usageDoc(DAY1));
    const day2 = usageDocId(agent.clientId, DAY2);
    const rulesChange = A.change(newRecordDoc(agent.actor), (d) => {
      d["S01-997"] = encodeRule({ ...rule, id: "S01-997" });
    });
    const cases: [string, SyncItem, number, string][] = [
      ["a rules change", itemFor(rulesDocId("S01"), rulesChange), 403, "read_only"],
      [
        "another client's usage",
        itemFor(usageDocId(other.clientId, DAY2), usageDoc(DAY2, other.actor)),
        403,
        "doc_forbidden",
      ],
      [
        "a foreign actor's change",
        itemFor(day2, usageDoc(DAY2, newActorId())),
        403,
        "foreign_actor",
      ],
      [
        "a malformed record",
        itemFor(
          day2,
          A.change(usageDoc(DAY2), (d) => void (d["5"] = encode(["not", "a session"]))),
        ),
        400,
        "invalid_record",
      ],
    ];
    for (const [what, forbidden, status, code] of cases) {
      // valid first, so the site has applied it before it meets the forbidden item
      await expectRefused(agent, [valid, forbidden], status, code, []);
      await expectRefused(agent, [forbidden, valid], status, code, []);
      expect(await sessions(site.url, admin), what).toEqual([]);
      expect(await storedDoc(site.db, valid.doc), what).toBeUndefined();
    }
  });

  test("(f) a malformed session record is refused with 400 naming it; nothing stored", async () => {
    const docId = usageDocId(agent.clientId, DAY2);
    const cases: [string, (d: Record<string, unknown>) => void, string][] = [
      ["wrong tuple", (d) => void (d["3"] = encode(["x", 1])), "session 3"],
      ["not CBOR", (d) => void (d["4"] = new Uint8Array([0xff, 0xfe, 0x00])), "session 4"],
      ["not a byte string", (d) => void (d["5"] = "hello"), "session 5"],
      ["start after the day", (d) => void (d["6"] = encode([0, 1, 86_400_000, 1, 0])), "session 6"],
      ["negative pid", (d) => void (d["8"] = encode([0, -1, 0, 1, 0])), "session 8"],
      ["unknown flags", (d) => void (d["9"] = encode([0, 1, 0, 1, 8])), "session 9"],
      ["a missing program", (d) => void (d["10"] = encode([42, 1, 0, 1, 0])), "p42"],
      ["a malformed program", (d) => void (d.p7 = encode([""])), "program p7"],
      [
        "a hostile language",
        (d) => void (d.p8 = encode(["S01-1", "bob", "/x", "x", null, "de'); drop table x;--"])),
        "program p8",
      ],
      [
        "a language over 35 characters",
        (d) => void (d.p9 = encode(["S01-1", "bob", "/x", "x", null, "a".repeat(36)])),
        "program p9",
      ],
      ["an unknown record", (d) => void (d.zz = encode(1)), "zz"],
    ];
    for (const [what, corrupt, fragment] of cases) {
      const doc = A.change(usageDoc(DAY2), (d) => corrupt(d as Record<string, unknown>));
      await expectRefused(agent, [itemFor(docId, doc)], 400, "invalid_record", [docId, fragment]);
      expect(await storedDoc(site.db, docId), what).toBeUndefined();
    }
    expect(await sessions(site.url, admin)).toEqual([]);
  });

  let day1: RecordDoc;

  test("(e) afterwards a valid batch for the same documents is accepted and its sessions appear", async () => {
    day1 = usageDoc(DAY1);
    const answer = await sendBatch(site.url, agent, [
      itemFor(usageDocId(agent.clientId, DAY1), day1),
      itemFor(usageDocId(agent.clientId, DAY2), usageDoc(DAY2)),
    ]);
    expect(answer.status, JSON.stringify(answer.error)).toBe(200);
    const found = await sessions(site.url, admin);
    expect(found.map((s) => [s.id, s.clientId, s.user, s.start, s.end, s.ruleName])).toEqual([
      [
        `${DAY1}/0`,
        agent.clientId,
        "alice",
        new Date(T1).toISOString(),
        new Date(T1 + 60_000).toISOString(),
        "Editor",
      ],
      [`${DAY1}/1`, agent.clientId, "bob", new Date(T1 + 5_000).toISOString(), null, "Editor"],
      [
        `${DAY2}/0`,
        agent.clientId,
        "alice",
        new Date(T2).toISOString(),
        new Date(T2 + 60_000).toISOString(),
        "Editor",
      ],
      [`${DAY2}/1`, agent.clientId, "bob", new Date(T2 + 5_000).toISOString(), null, "Editor"],
    ]);
    expect(await storedDoc(site.db, usageDocId(agent.clientId, DAY1))).toBeDefined();
    // the rules stayed the site's own
    const { rules } = await (await api(site.url, admin, "GET", "/v1/rules")).json();
    expect(rules.map((r: Rule) => [r.id, r.name])).toEqual([[rule.id, "Editor"]]);
  });

  test("a foreign change on top of a stored document is refused, and does not ride in with the next valid one", async () => {
    const docId = usageDocId(agent.clientId, DAY1);
    const stranger = newActorId();
    const foreign = A.change(A.clone(day1, { actor: stranger }), (d) => {
      d["1"] = d["0"]; // "ends" bob's session with alice's record
    });
    await expectRefused(agent, [itemFor(docId, foreign)], 403, "foreign_actor", [stranger]);

    // the agent's own next change (bob's session ends) is accepted alone
    day1 = writeSessions(day1, DAY1, [
      session({
        id: `${DAY1}/1`,
        ruleId: rule.id,
        user: "bob",
        start: T1 + 5_000,
        end: T1 + 9_000,
      }),
    ]);
    const answer = await sendBatch(site.url, agent, [itemFor(docId, day1)]);
    expect(answer.status, JSON.stringify(answer.error)).toBe(200);
    const stored = A.load(
      (await storedDocBytes(site.db, docId))!,
    );
    expect(A.getHeads(stored).sort()).toEqual(A.getHeads(day1).sort());
    expect(new Set(A.getAllChanges(stored).map((c) => A.decodeChange(c).actor))).toEqual(
      new Set([agent.actor]),
    );
    const bob = (await sessions(site.url, admin, { user: "bob" })).find((s) =>
      s.id === `${DAY1}/1`
    );
    expect(bob?.end).toBe(new Date(T1 + 9_000).toISOString());
    expect(bob?.stillRunning).toBe(false);
  });
});
