/**
 * A flood of refused requests on a real site over loopback: past
 * `unauthenticatedRequestsPerMinute` an address's refused requests (bad
 * tokens, bad console cookies, forms from other origins) are answered 429
 * with `Retry-After` (its good requests still pass), and the audit log
 * counts repeated refusals of a kind on one row instead of adding one each,
 * so thousands of bad requests leave a few rows whose counts add up to what
 * was answered, and the database (with its WAL) stays about the size it
 * was. The collapsing itself is checked on the real `AuditLog` over
 * a real libSQL file: a new ten-minute window starts a new row, and a log
 * made before counts were kept still reads.
 */
import { createClient } from "@libsql/client";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { AuditLog } from "../site/access/audit_log.ts";
import { openSiteDatabase } from "../site/site_db.ts";
import { tempDir } from "./helpers/metered_program.ts";
import { type ReportSite, startReportSite } from "./helpers/report_site.ts";
import { api } from "./helpers/site_api.ts";

interface AuditRow {
  at: string;
  peer: string;
  method: string;
  path: string;
  status: number;
  code: string;
  reason: string;
  count: number;
  lastAt: string;
}

describe("a flood of refused requests", () => {
  let r: ReportSite;

  beforeEach(async () => {
    r = await startReportSite();
  });

  afterEach(() => r?.close());

  /** Sends `count` requests, `parallel` at a time; returns each answer's status and Retry-After. */
  async function flood(count: number, send: (i: number) => Promise<Response>, parallel = 50) {
    const answers: { status: number; retryAfter: string | null }[] = [];
    let next = 0;
    const worker = async () => {
      while (next < count) {
        const response = await send(next++);
        await response.body?.cancel();
        answers.push({ status: response.status, retryAfter: response.headers.get("retry-after") });
      }
    };
    await Promise.all(Array.from({ length: parallel }, worker));
    return answers;
  }

  const tally = (statuses: { status: number }[], status: number) =>
    statuses.filter((s) => s.status === status).length;

  async function audit(): Promise<AuditRow[]> {
    const response = await api(r.url, r.admin, "GET", "/v1/audit?limit=100000");
    expect(response.status).toBe(200);
    return (await response.json()).entries;
  }

  const sum = (rows: AuditRow[]) => rows.reduce((total, row) => total + row.count, 0);

  async function databaseBytes(): Promise<number> {
    let bytes = 0;
    for (const file of [r.dbPath, `${r.dbPath}-wal`]) {
      bytes += await Deno.stat(file).then((s) => s.size, () => 0);
    }
    return bytes;
  }

  test("3,000 bad tokens: 401 up to the limit, then 429; a few audit rows; no megabytes", async () => {
    const sizeBefore = await databaseBytes();
    const started = Date.now();
    const answers = await flood(3000, () => api(r.url, "mtr_not-a-token", "GET", "/v1/rules"));
    const seconds = (Date.now() - started) / 1000;
    const unauthorized = tally(answers, 401);
    const limited = tally(answers, 429);
    expect(unauthorized + limited).toBe(3000);
    // A burst of 60, then one a second.
    expect(unauthorized).toBeGreaterThanOrEqual(60);
    expect(unauthorized).toBeLessThanOrEqual(60 + Math.ceil(seconds) + 1);
    for (const answer of answers.filter((a) => a.status === 429)) {
      expect(Number(answer.retryAfter)).toBeGreaterThanOrEqual(1);
    }

    // The limit is on refusals: a good token from the same address is answered.
    expect((await api(r.url, r.viewer, "GET", "/v1/rules")).status).toBe(200);

    const rows = (await audit()).filter((row) => row.path === "/v1/rules");
    expect(rows.length).toBeLessThanOrEqual(4); // two kinds; a ten-minute window may end between
    const refused = rows.filter((row) => row.status === 401);
    const tooMany = rows.filter((row) => row.status === 429);
    expect(refused.every((row) => row.reason === "unknown token")).toBe(true);
    expect(tooMany.every((row) => row.code === "rate_limited")).toBe(true);
    expect(sum(refused)).toBe(unauthorized);
    expect(sum(tooMany)).toBe(limited);
    for (const row of rows) {
      expect(row.peer).toBe("127.0.0.1");
      expect(Date.parse(row.lastAt)).toBeGreaterThanOrEqual(Date.parse(row.at));
    }
    expect(await databaseBytes() - sizeBefore).toBeLessThan(1_000_000);
  });

  test("made-up paths of one route collapse onto one row", async () => {
    const patched = await api(r.url, r.admin, "PATCH", "/v1/settings", {
      unauthenticatedRequestsPerMinute: 1_000_000,
    });
    expect(patched.status).toBe(200);
    const answers = await flood(
      1000,
      (i) => api(r.url, "mtr_not-a-token", "DELETE", `/v1/tokens/made-up-${i}`),
    );
    expect(tally(answers, 401)).toBe(1000);
    const rows = (await audit()).filter((row) => row.path.startsWith("/v1/tokens/made-up-"));
    expect(rows.length).toBeLessThanOrEqual(2);
    expect(sum(rows)).toBe(1000);
  });

  test("forms from other origins count against the address too", async () => {
    const answers = await flood(500, (i) =>
      fetch(new URL("/sign-in", r.url), {
        method: "POST",
        headers: { origin: `https://evil-${i}.example` },
        redirect: "manual",
      }));
    const refused = tally(answers, 403);
    expect(refused).toBeGreaterThanOrEqual(60);
    expect(refused).toBeLessThan(100);
    expect(tally(answers, 429)).toBe(500 - refused);
    const rows = (await audit()).filter((row) => row.path === "/sign-in");
    // Each origin is its own reason, so each 403 is a row: as many as the limit let through.
    expect(rows.length).toBeLessThanOrEqual(refused + 2);
    expect(sum(rows)).toBe(500);
  });

  test("sign-in with wrong tokens gets a 429 page; the right token still signs in", async () => {
    const signIn = (token: string) =>
      fetch(new URL("/sign-in", r.url), {
        method: "POST",
        headers: {
          origin: new URL(r.url).origin,
          "content-type": "application/x-www-form-urlencoded",
        },
        body: new URLSearchParams({ token, next: "/" }),
        redirect: "manual",
      });
    const answers = await flood(200, () => signIn("wrong"), 20);
    expect(tally(answers, 401)).toBeGreaterThanOrEqual(60);
    expect(tally(answers, 429)).toBeGreaterThan(0);
    const limited = await signIn("wrong");
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(await limited.text()).toContain(
      "too many requests refused for their credentials from this address",
    );
    const good = await signIn(r.admin);
    expect(good.status).toBe(303);
    expect(good.headers.get("set-cookie")).toContain("meter_console=");
  });

  test("a console cookie with a bad token counts too: sign-in, then a 429 page", async () => {
    const answers = await flood(300, () =>
      fetch(new URL("/rules", r.url), {
        headers: { cookie: "meter_console=mtr_not-a-token" },
        redirect: "manual",
      }));
    const redirected = tally(answers, 303);
    expect(redirected).toBeGreaterThanOrEqual(60);
    expect(redirected).toBeLessThan(100);
    expect(tally(answers, 429)).toBe(300 - redirected);
    const rows = (await audit()).filter((row) => row.path === "/rules");
    expect(rows.length).toBeLessThanOrEqual(4);
    expect(sum(rows.filter((row) => row.reason === "unknown token"))).toBe(redirected);
    expect(sum(rows)).toBe(300);
  });

  test("a refused request's row is in the log at once, before any flush", async () => {
    expect((await api(r.url, "mtr_not-a-token", "GET", "/v1/clients")).status).toBe(401);
    const stored = await r.site.db.execute(
      "SELECT count, reason FROM audit_log WHERE path = '/v1/clients'",
    );
    expect(stored.rows.map((row) => ({ ...row }))).toEqual([
      { count: 1, reason: "unknown token" },
    ]);
  });
});

describe("AuditLog on a libSQL file", () => {
  test("a log made before counts were kept is read as one refusal a row", async () => {
    const temp = await tempDir("meter-audit-");
    const path = join(temp.dir, "old.db");
    const old = createClient({ url: `file:${path}` });
    await old.execute(`CREATE TABLE audit_log (id INTEGER PRIMARY KEY, at INTEGER NOT NULL,
      peer TEXT NOT NULL, method TEXT NOT NULL, path TEXT NOT NULL, status INTEGER NOT NULL,
      code TEXT NOT NULL, reason TEXT NOT NULL)`);
    await old.execute(`INSERT INTO audit_log (at, peer, method, path, status, code, reason)
      VALUES (1000, '10.0.0.1', 'GET', '/v1/rules', 401, 'unauthenticated', 'unknown token')`);
    old.close();
    const db = await openSiteDatabase(path);
    try {
      expect(await new AuditLog(db).read(10)).toEqual([{
        at: new Date(1000).toISOString(),
        peer: "10.0.0.1",
        method: "GET",
        path: "/v1/rules",
        status: 401,
        code: "unauthenticated",
        reason: "unknown token",
        count: 1,
        lastAt: new Date(1000).toISOString(),
      }]);
    } finally {
      db.close();
      await temp.remove();
    }
  });

  test("repeats count on their row until the ten-minute window ends", async () => {
    const temp = await tempDir("meter-audit-");
    const db = await openSiteDatabase(join(temp.dir, "site.db"));
    try {
      const log = new AuditLog(db);
      const t0 = Date.UTC(2026, 10, 25, 9, 0, 0);
      const refusal = (at: number, reason = "unknown token") => ({
        at,
        peer: "10.0.0.7",
        method: "GET",
        path: "/v1/rules",
        route: "/v1/rules",
        status: 401,
        code: "unauthenticated",
        reason,
      });
      await log.refused(refusal(t0));
      await log.refused(refusal(t0 + 1_000));
      await log.refused(refusal(t0 + 2_000, "token revoked"));
      await log.refused(refusal(t0 + 599_000));
      await log.refused(refusal(t0 + 600_000)); // the next window
      await log.flush(t0 + 600_000);
      await log.flush(t0 + 600_000); // writes nothing new
      const rows = await db.execute(
        "SELECT at, last_at, count, reason FROM audit_log ORDER BY id",
      );
      expect(rows.rows.map((row) => ({ ...row }))).toEqual([
        { at: t0, last_at: t0 + 599_000, count: 3, reason: "unknown token" },
        { at: t0 + 2_000, last_at: t0 + 2_000, count: 1, reason: "token revoked" },
        { at: t0 + 600_000, last_at: t0 + 600_000, count: 1, reason: "unknown token" },
      ]);
      const read = await log.read(10);
      expect(read.map((e) => [e.count, e.lastAt])).toEqual([
        [1, new Date(t0 + 600_000).toISOString()],
        [3, new Date(t0 + 599_000).toISOString()],
        [1, new Date(t0 + 2_000).toISOString()],
      ]);
    } finally {
      db.close();
      await temp.remove();
    }
  });
});
