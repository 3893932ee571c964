/**
 * `GET /v1/usage` of a real site over sessions that arrived through the
 * real sync protocol: two fake agents (one sending one-shot batches, one
 * using the real `SyncClient`) deliver known sessions over three days, for
 * several users and rules, with ties, a run across midnight, runs still
 * going, and text that needs CSV quoting.
 *
 * Proves: every session is listed exactly as recorded; the rule, client and
 * user filters; `from`/`to` include every session that overlaps the range
 * (a session still running overlaps everything after its start); walking
 * the pages with `cursor` yields every row once, in both orders; `order=desc`
 * is the reverse; CSV equals the JSON; bad parameters are refused naming
 * them; the same batch sent twice changes nothing; and a session sent again
 * with its end time updates its row.
 */
import type * as A from "@automerge/automerge";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { SESSION_COLUMNS, type SessionOutput } from "../model/session_output.ts";
import { dayOf, usageDocId } from "../model/doc_id.ts";
import type { Rule } from "../model/rule.ts";
import { encodeSyncBody } from "../sync/sync_batch.ts";
import type { UsageSession } from "../model/usage_record.ts";
import { AgentSyncStore } from "./helpers/agent_sync_store.ts";
import { csvCell, parseCsv } from "./helpers/csv_parse.ts";
import {
  enrollFakeAgent,
  type FakeAgent,
  itemFor,
  newRecordDoc,
  postSyncBytes,
  type RecordDoc,
  session,
  writeSessions,
} from "./helpers/fake_agent.ts";
import { tempDir } from "./helpers/metered_program.ts";
import { type SiteHandle, startSite } from "./helpers/meter_process.ts";
import { addRule, api, makeToken, sessions } from "./helpers/site_api.ts";
import { SeededRandom } from "../lib/seeded_random.ts";
import { settledSnapshot } from "./helpers/site_tables.ts";

const D1 = "2026-05-10";
const D2 = "2026-05-11";
const D3 = "2026-05-12";
const DAYS = [D1, D2, D3];
const at = (day: string, time: string) => Date.parse(`${day}T${time}Z`);
const MIN = 60_000;
/** A rule id no rule has (deleted long ago): its sessions list with no rule name. */
const GONE_RULE = "S01-77";

interface Recorded {
  agent: FakeAgent;
  session: UsageSession;
}

describe("usage API over synced sessions", () => {
  let temp: Awaited<ReturnType<typeof tempDir>>;
  let site: SiteHandle;
  let admin: string;
  let viewer: string;
  let alpha: FakeAgent;
  let beta: FakeAgent;
  let betaStore: AgentSyncStore;
  let editor: Rule;
  let compiler: Rule;
  /** Everything sent, by client and session id: the model the answers are checked against. */
  const recorded = new Map<string, Recorded>();
  /** alpha's documents and the exact bytes of its one batch. */
  const alphaDocs = new Map<string, RecordDoc>();
  let alphaBatch: Uint8Array;

  beforeAll(async () => {
    temp = await tempDir("meter-usage-");
    site = await startSite(temp.dir);
    admin = await makeToken(site.db, "admin");
    viewer = await makeToken(site.db, "viewer");
    const enroll = await makeToken(site.db, "enroll");
    alpha = await enrollFakeAgent(site.url, enroll, "alpha");
    beta = await enrollFakeAgent(site.url, enroll, "beta");
    editor = await addRule(site.url, admin, { name: "Editor", fileName: "editor" });
    compiler = await addRule(site.url, admin, { name: "Compiler", fileName: "cc" });

    // alpha: one batch of one-shot messages, kept to be sent again
    for (const day of DAYS) {
      const doc = writeSessions(newRecordDoc(alpha.actor), day, record(alpha, alphaSessions(day)));
      alphaDocs.set(usageDocId(alpha.clientId, day), doc);
    }
    alphaBatch = encodeSyncBody({
      items: [...alphaDocs].map(([docId, doc]) => itemFor(docId, doc)),
    });
    const sent = await postSyncBytes(site.url, alpha.authorization, alphaBatch);
    expect(sent.status, await sent.text()).toBe(200);

    // beta: the real sync client, rounds until both sides are done
    betaStore = await AgentSyncStore.open(`${temp.dir}/beta.db`, site.url, beta);
    const betaDocs = new Map<string, A.Doc<unknown>>();
    for (const day of DAYS) {
      const doc = writeSessions(newRecordDoc(beta.actor), day, record(beta, betaSessions(day)));
      betaDocs.set(usageDocId(beta.clientId, day), doc);
    }
    const outcome = await betaStore.sync(betaDocs);
    expect(outcome.rounds).toBeGreaterThan(0);
  });

  afterAll(async () => {
    betaStore?.close();
    await site?.process.stop();
    await temp?.remove();
  });

  function record(agent: FakeAgent, list: UsageSession[]): UsageSession[] {
    for (const s of list) recorded.set(`${agent.clientId} ${s.id}`, { agent, session: s });
    return list;
  }

  /** Hand-made edge cases plus seeded random sessions for alpha. */
  function alphaSessions(day: string): UsageSession[] {
    const mine: Record<string, UsageSession[]> = {
      [D1]: [
        session({
          id: `${D1}/0`,
          ruleId: editor.id,
          user: "alice",
          start: at(D1, "09:00:00"),
          end: at(D1, "10:00:00"),
        }),
        // same start as the one above: ordered by session id
        session({
          id: `${D1}/1`,
          ruleId: editor.id,
          user: "bob",
          start: at(D1, "09:00:00"),
          end: at(D1, "09:30:00"),
        }),
        // runs across midnight
        session({
          id: `${D1}/2`,
          ruleId: compiler.id,
          user: "alice",
          start: at(D1, "23:30:00"),
          end: at(D2, "00:30:00"),
        }),
        // still running, with text that needs quoting in CSV
        session({
          id: `${D1}/3`,
          ruleId: compiler.id,
          user: 'o\'brien, "jr"',
          exe: '/opt/odd,dir/"cc"\nnext line',
          argv0: "cc, really",
          start: at(D1, "12:00:00"),
          end: null,
        }),
        // zero length, remote
        session({
          id: `${D1}/4`,
          ruleId: editor.id,
          user: "carol",
          start: at(D1, "15:00:00"),
          end: at(D1, "15:00:00"),
          remote: true,
        }),
        // Programs are stored once and found by their four values as a JSON
        // array: no version, the text "null", and strings that look like JSON
        // must stay three programs, each listed as sent.
        ...[null, "null", '"],["x'].map((version, i) =>
          session({
            id: `${D1}/${5 + i}`,
            ruleId: editor.id,
            user: "erin",
            exe: '/opt/["editor", null]',
            argv0: "ed\\it",
            version,
            language: i === 2 ? "de-DE" : null,
            start: at(D1, "16:00:00") + i * MIN,
            end: at(D1, "16:00:30") + i * MIN,
          })
        ),
      ],
      [D2]: [
        session({
          id: `${D2}/0`,
          ruleId: editor.id,
          user: "alice",
          start: at(D2, "09:00:00"),
          end: at(D2, "11:00:00"),
          startNotCaptured: true,
        }),
        session({
          id: `${D2}/1`,
          ruleId: GONE_RULE,
          user: "dave",
          start: at(D2, "13:00:00"),
          end: at(D2, "13:05:00"),
        }),
      ],
      [D3]: [
        session({
          id: `${D3}/0`,
          ruleId: compiler.id,
          user: "bob",
          start: at(D3, "08:00:00"),
          end: at(D3, "08:10:00"),
          endNotCaptured: true,
          version: null,
        }),
      ],
    };
    return [...mine[day], ...randomSessions(day, 11)];
  }

  function betaSessions(day: string): UsageSession[] {
    const mine: Record<string, UsageSession[]> = {
      // the same start as alpha's two: ordered by client id
      [D1]: [
        session({
          id: `${D1}/0`,
          ruleId: editor.id,
          user: "alice",
          start: at(D1, "09:00:00"),
          end: at(D1, "09:10:00"),
          pid: 4242,
        }),
      ],
      [D2]: [
        session({
          id: `${D2}/0`,
          ruleId: compiler.id,
          user: "erin",
          start: at(D2, "00:00:00"),
          end: at(D2, "00:15:00"),
        }),
        session({
          id: `${D2}/1`,
          ruleId: editor.id,
          user: "bob",
          start: at(D2, "10:00:00"),
          end: null,
        }),
      ],
      [D3]: [],
    };
    return [...mine[day], ...randomSessions(day, 12)];
  }

  const random = new SeededRandom(510);

  function randomSessions(day: string, count: number): UsageSession[] {
    return Array.from({ length: count }, (_, i) => {
      const start = at(day, "00:00:00") + random.below(24 * 60) * MIN;
      return session({
        id: `${day}/${10 + i}`,
        ruleId: random.pick([editor.id, compiler.id]),
        user: random.pick(["alice", "bob", "carol"]),
        language: random.pick(["de", "en-US", null]),
        start,
        end: start + (1 + random.below(180)) * MIN,
        pid: 2000 + random.below(30_000),
      });
    });
  }

  /** What the site should list for a recorded session. */
  function expected({ agent, session: s }: Recorded): SessionOutput {
    const rule = [editor, compiler].find((r) => r.id === s.ruleId);
    return {
      id: s.id,
      clientId: agent.clientId,
      hostName: agent.hostName,
      ruleId: s.ruleId,
      ruleName: rule?.name ?? null,
      user: s.user,
      exe: s.exe,
      argv0: s.argv0,
      version: s.version,
      language: s.language ?? null,
      pid: s.pid,
      start: new Date(s.start).toISOString(),
      end: s.end === null ? null : new Date(s.end).toISOString(),
      durationSeconds: s.end === null ? null : (s.end - s.start) / 1000,
      stillRunning: s.end === null,
      startNotCaptured: s.startNotCaptured,
      endNotCaptured: s.endNotCaptured,
      remote: s.remote,
      clockCorrectionSeconds: 0,
    };
  }

  /** The model's answer for a filter, oldest first, ties by client then session id. */
  function expectedWhere(keep: (r: Recorded) => boolean = () => true): SessionOutput[] {
    return [...recorded.values()].filter(keep).map(expected).sort((a, b) =>
      Date.parse(a.start) - Date.parse(b.start) || compare(a.clientId, b.clientId) ||
      compare(a.id, b.id)
    );
  }

  const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

  const overlaps = (from: number, to: number) => ({ session: s }: Recorded) =>
    s.start < to && (s.end === null || s.end >= from);

  async function getUsage(query: Record<string, string>, token = viewer) {
    const response = await api(site.url, token, "GET", `/v1/usage?${new URLSearchParams(query)}`);
    const text = await response.text();
    expect(response.status, text).toBe(200);
    const body = JSON.parse(text) as { sessions: SessionOutput[]; nextCursor: string | null };
    expect(response.headers.get("x-next-cursor")).toBe(body.nextCursor);
    return body;
  }

  test("every synced session is listed exactly as recorded, oldest first", async () => {
    expect(recorded.size).toBeGreaterThan(70);
    const all = await sessions(site.url, viewer);
    expect(all).toEqual(expectedWhere());
    // the edge cases are there as made
    const crossing = all.find((s) => s.clientId === alpha.clientId && s.id === `${D1}/2`)!;
    expect([crossing.end, crossing.durationSeconds]).toEqual([
      new Date(at(D2, "00:30:00")).toISOString(),
      3600,
    ]);
    const gone = all.find((s) => s.ruleId === GONE_RULE)!;
    expect(gone.ruleName).toBeNull();
    const tied = all.filter((s) => s.start === new Date(at(D1, "09:00:00")).toISOString());
    expect(tied.map((s) => [s.clientId, s.id])).toEqual(
      [[alpha.clientId, `${D1}/0`], [alpha.clientId, `${D1}/1`], [beta.clientId, `${D1}/0`]]
        .sort((a, b) => compare(a[0], b[0]) || compare(a[1], b[1])),
    );
  });

  test("filters by rule, client and user, alone and together", async () => {
    const cases: [Record<string, string>, (r: Recorded) => boolean][] = [
      [{ rule: editor.id }, (r) => r.session.ruleId === editor.id],
      [{ rule: GONE_RULE }, (r) => r.session.ruleId === GONE_RULE],
      [{ client: beta.clientId }, (r) => r.agent === beta],
      [{ user: "alice" }, (r) => r.session.user === "alice"],
      [{ user: 'o\'brien, "jr"' }, (r) => r.session.user === 'o\'brien, "jr"'],
      [
        { rule: compiler.id, client: alpha.clientId, user: "bob" },
        (r) => r.session.ruleId === compiler.id && r.agent === alpha && r.session.user === "bob",
      ],
      [{ rule: "S01-999" }, () => false],
    ];
    for (const [query, keep] of cases) {
      const want = expectedWhere(keep);
      expect((await getUsage({ ...query, limit: "100000" })).sessions, JSON.stringify(query))
        .toEqual(want);
      if (query.rule !== "S01-999") expect(want.length, JSON.stringify(query)).toBeGreaterThan(0);
    }
  });

  test("from/to include every session that overlaps the range", async () => {
    const ranges: [string, string | undefined, string | undefined][] = [
      ["the first day, as dates", D1, D2],
      ["midnight of the second day", `${D2}T00:00:00Z`, `${D2}T01:00:00Z`],
      ["a quarter hour inside the 09:00 sessions", `${D1}T09:05:00Z`, `${D1}T09:20:00Z`],
      ["from the instant one session ends", `${D1}T10:00:00.000Z`, `${D1}T10:00:00.001Z`],
      ["up to the instant three sessions start", undefined, `${D1}T09:00:00Z`],
      ["the third day, in ms", String(at(D3, "00:00:00")), String(at(D3, "00:00:00") + 86_400_000)],
      ["from noon of the second day on", `${D2}T12:00:00Z`, undefined],
      ["a year later", "2027-05-10", undefined],
    ];
    const ms = (value: string) => /^\d+$/.test(value) ? Number(value) : Date.parse(value);
    for (const [what, from, to] of ranges) {
      const query: Record<string, string> = { limit: "100000" };
      if (from) query.from = from;
      if (to) query.to = to;
      const want = expectedWhere(overlaps(from ? ms(from) : -Infinity, to ? ms(to) : Infinity));
      expect((await getUsage(query)).sessions, what).toEqual(want);
    }

    const ids = async (from: string, to: string) =>
      (await getUsage({ from, to, limit: "100000" })).sessions.map((s) => `${s.clientId} ${s.id}`);
    // started the day before, still running at midnight
    expect(await ids(`${D2}T00:00:00Z`, `${D2}T00:01:00Z`)).toEqual(
      expect.arrayContaining([`${alpha.clientId} ${D1}/2`, `${beta.clientId} ${D2}/0`]),
    );
    // still running: overlaps a range days after its start
    expect(await ids(D3, "2026-05-13")).toEqual(
      expect.arrayContaining([`${alpha.clientId} ${D1}/3`, `${beta.clientId} ${D2}/1`]),
    );
    // a session starting exactly at `to` is not in [from, to)
    expect(await ids(`${D1}T08:00:00Z`, `${D1}T09:00:00Z`)).not.toContain(
      `${alpha.clientId} ${D1}/0`,
    );
    // ended before the range: out
    expect(await ids(`${D1}T10:00:01Z`, `${D1}T11:00:00Z`)).not.toContain(
      `${alpha.clientId} ${D1}/0`,
    );
  });

  /** Follows `cursor` to the end; returns the pages. */
  async function walk(query: Record<string, string>, limit: number): Promise<SessionOutput[][]> {
    const pages: SessionOutput[][] = [];
    let cursor: string | null = null;
    do {
      const page = await getUsage({
        ...query,
        limit: String(limit),
        ...(cursor ? { cursor } : {}),
      });
      expect(page.sessions.length).toBeLessThanOrEqual(limit);
      pages.push(page.sessions);
      cursor = page.nextCursor;
      expect(pages.length).toBeLessThan(1000);
    } while (cursor);
    return pages;
  }

  test("walking the pages with cursor yields every session once, in both orders and with filters", async () => {
    const cases: [Record<string, string>, SessionOutput[]][] = [
      [{}, expectedWhere()],
      [{ order: "desc" }, expectedWhere().reverse()],
      [
        { rule: editor.id, from: D2 },
        expectedWhere((r) =>
          r.session.ruleId === editor.id && overlaps(at(D2, "00:00:00"), Infinity)(r)
        ),
      ],
      [{ user: "bob", order: "desc" }, expectedWhere((r) => r.session.user === "bob").reverse()],
    ];
    for (const [query, want] of cases) {
      for (const limit of [1, 7, want.length, want.length + 1]) {
        const pages = await walk(query, limit);
        const rows = pages.flat();
        const keys = rows.map((s) => `${s.clientId} ${s.id}`);
        expect(new Set(keys).size, `duplicates with ${JSON.stringify(query)} limit ${limit}`).toBe(
          keys.length,
        );
        expect(rows, `${JSON.stringify(query)} limit ${limit}`).toEqual(want);
        expect(pages.slice(0, -1).every((p) => p.length === limit)).toBe(true);
        // the last page is the one without a cursor: no empty page after a full one
        expect(pages.length).toBe(Math.max(1, Math.ceil(want.length / limit)));
      }
    }
  });

  test("order=desc is the reverse of the default order", async () => {
    const asc = (await getUsage({ limit: "100000" })).sessions;
    const desc = (await getUsage({ limit: "100000", order: "desc" })).sessions;
    expect(asc.length).toBe(recorded.size);
    expect(desc).toEqual([...asc].reverse());
    expect((await getUsage({ limit: "100000", order: "asc" })).sessions).toEqual(asc);
  });

  test("CSV (?format=csv or Accept: text/csv) has a header row and equals the JSON rows", async () => {
    const queries: Record<string, string>[] = [{}, { rule: compiler.id }, {
      limit: "5",
      order: "desc",
    }];
    for (const query of queries) {
      const json = await getUsage({ limit: "100000", ...query });
      const params = new URLSearchParams({ limit: "100000", ...query });
      const responses = [
        await api(site.url, viewer, "GET", `/v1/usage?${params}&format=csv`),
        await fetch(new URL(`/v1/usage?${params}`, site.url), {
          headers: { authorization: `Bearer ${viewer}`, accept: "text/csv" },
        }),
      ];
      for (const response of responses) {
        expect(response.status).toBe(200);
        expect(response.headers.get("content-type")).toBe("text/csv; charset=utf-8");
        expect(response.headers.get("x-next-cursor")).toBe(json.nextCursor);
        const rows = parseCsv(await response.text());
        expect(rows[0]).toEqual(SESSION_COLUMNS);
        expect(rows.slice(1)).toEqual(
          json.sessions.map((s) =>
            SESSION_COLUMNS.map((c) => csvCell(s[c as keyof SessionOutput]))
          ),
        );
      }
    }
    // the quoted row survives the round trip
    const odd = parseCsv(
      await (await api(
        site.url,
        viewer,
        "GET",
        `/v1/usage?user=${encodeURIComponent('o\'brien, "jr"')}&format=csv`,
      )).text(),
    );
    expect(odd[1][SESSION_COLUMNS.indexOf("exe")]).toBe('/opt/odd,dir/"cc"\nnext line');
  });

  test("bad parameters are refused with 400 naming them", async () => {
    const cases: [string, RegExp][] = [
      ["from=last-tuesday", /last-tuesday is not a time[\s\S]*at from/],
      // A year or a date without dashes is not read as ms and so as "nothing found".
      ["from=2026", /2026 ms since 1970 is before 2000[\s\S]*at from/],
      ["to=20260501", /20260501 ms since 1970 is before 2000[\s\S]*at to/],
      ["to=2026-02-30T25:00", /at to/],
      ["limit=100001", /at limit/],
      ["limit=0", /at limit/],
      ["order=newest", /at order/],
    ];
    for (const [query, message] of cases) {
      const response = await api(site.url, viewer, "GET", `/v1/usage?${query}`);
      const text = await response.text();
      expect(response.status, `${query}: ${text}`).toBe(400);
      expect(JSON.parse(text).error.message, query).toMatch(message);
    }
    expect((await getUsage({ limit: "100000" })).sessions).toHaveLength(recorded.size);
  });

  test("the very same batch sent twice leaves exactly the same rows", async () => {
    const before = await settledSnapshot(site.url, admin, site.db);
    const again = await postSyncBytes(site.url, alpha.authorization, alphaBatch);
    expect(again.status, await again.text()).toBe(200);
    const after = await settledSnapshot(site.url, admin, site.db);
    expect(after.usageSessions).toEqual(before.usageSessions);
    expect(after.docs).toEqual(before.docs);
    expect(after.docChunkRows).toEqual(before.docChunkRows);
    expect(before.usageSessions).toHaveLength(recorded.size);
    expect(await sessions(site.url, viewer)).toEqual(expectedWhere());
  });

  test("a session sent again with its end time updates its row", async () => {
    const before = await settledSnapshot(site.url, admin, site.db);
    const ends: [FakeAgent, string, number][] = [
      [alpha, `${D1}/3`, at(D2, "02:15:00")],
      [beta, `${D2}/1`, at(D2, "17:45:30")],
    ];
    for (const [agent, id, end] of ends) {
      const entry = recorded.get(`${agent.clientId} ${id}`)!;
      expect(entry.session.end).toBeNull();
      entry.session = { ...entry.session, end };
    }

    // alpha: one more change to its day document, sent as a one-shot message
    const alphaDoc = usageDocId(alpha.clientId, D1);
    const ended = writeSessions(alphaDocs.get(alphaDoc)!, D1, [
      recorded.get(`${alpha.clientId} ${D1}/3`)!.session,
    ]);
    const sent = await postSyncBytes(
      site.url,
      alpha.authorization,
      encodeSyncBody({ items: [itemFor(alphaDoc, ended)] }),
    );
    expect(sent.status, await sent.text()).toBe(200);

    // beta: the real client, from the document it stored
    const betaDoc = usageDocId(beta.clientId, D2);
    const stored = await betaStore.docs.load<Record<string, Uint8Array>>(betaDoc, beta.actor);
    const betaEnded = writeSessions(stored!, D2, [
      recorded.get(`${beta.clientId} ${D2}/1`)!.session,
    ]);
    await betaStore.sync(new Map([[betaDoc, betaEnded]]));

    const all = await sessions(site.url, viewer);
    expect(all).toEqual(expectedWhere());
    for (const [agent, id, end] of ends) {
      const row = all.find((s) => s.clientId === agent.clientId && s.id === id)!;
      expect(row.stillRunning).toBe(false);
      expect(row.end).toBe(new Date(end).toISOString());
      expect(dayOf(Date.parse(row.start))).toBe(id.slice(0, 10));
    }
    expect(all.filter((s) => s.stillRunning)).toEqual([]);

    // only those two rows changed
    const after = await settledSnapshot(site.url, admin, site.db);
    const key = (row: Record<string, unknown>) => `${row.client_id} ${row.session_id}`;
    const changed = after.usageSessions.filter((row, i) =>
      JSON.stringify(row) !== JSON.stringify(before.usageSessions[i])
    ).map(key);
    expect(changed.sort()).toEqual(
      [`${alpha.clientId} ${D1}/3`, `${beta.clientId} ${D2}/1`].sort(),
    );
    expect(after.usageSessions.map(key)).toEqual(before.usageSessions.map(key));
  });
});
