/**
 * Who may start a rebuild of the summaries, which now starts a worker per
 * core: on a real site over loopback, a stranger without a token, a viewer,
 * an enrolment token, a child site's token and an agent's credential are
 * refused, and so are an admin's malformed, unknown or oversized requests;
 * none of them rebuilds anything. An admin's rebuild does.
 *
 * One hourly row is deleted by hand first: a rebuild would bring it back,
 * so its absence after every refusal shows nothing was rebuilt.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createToken } from "../site/access/tokens.ts";
import { type ReportSite, startReportSite } from "./helpers/report_site.ts";
import { enrollFakeAgent } from "./helpers/fake_agent.ts";
import { sessionRowsStatements } from "./helpers/session_rows.ts";

const HOUR = 3_600_000;
const START = Date.UTC(2026, 10, 20, 8);

describe("starting a rebuild", () => {
  let r: ReportSite;

  beforeAll(async () => {
    r = await startReportSite();
    await r.site.db.execute(
      "INSERT INTO clients (client_id, host_name, time_zone, enrolled_at, enrolled_with) " +
        "VALUES ('c1', 'host1', 'UTC', 0, 't')",
    );
    const sessions = Array.from({ length: 6 }, (_, i) => ({
      client: "c1",
      id: `s${i}`,
      rule: `S01-${1 + (i % 3)}`,
      start: START + i * HOUR,
      end: START + i * HOUR + HOUR / 2,
    }));
    await r.site.db.batch(sessionRowsStatements(sessions), "write");
    await rebuild(r.admin, 200);
    await r.site.db.execute({ sql: "DELETE FROM hourly_usage WHERE hour_ms = ?", args: [START] });
  });

  afterAll(() => r?.close());

  async function rebuild(
    token: string | undefined,
    status: number,
    body: string = '{"rebuild":true}',
  ) {
    const response = await fetch(new URL("/v1/summaries/run", r.url), {
      method: "POST",
      headers: {
        ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
        "content-type": "application/json",
      },
      body,
    });
    const text = await response.text();
    expect(response.status, text).toBe(status);
    return text;
  }

  const firstHourRows = async () =>
    Number(
      (await r.site.db.execute({
        sql: "SELECT count(*) AS n FROM hourly_usage WHERE hour_ms = ?",
        args: [START],
      })).rows[0].n,
    );

  test.each(
    [
      ["a stranger without a token", () => Promise.resolve(undefined), 401],
      ["an unknown token", () => Promise.resolve("mtr_not-a-token"), 401],
      ["a viewer", () => Promise.resolve(r.viewer), 403],
      ["an enrolment token", () => Promise.resolve(r.enroll), 403],
      ["a child site's token", async () => (await createToken(r.site.db, "site")).token, 403],
      ["an agent", async () => {
        const agent = await enrollFakeAgent(r.url, r.enroll);
        return agent.authorization.slice("Bearer ".length);
      }, 401],
    ] as const,
  )("%s is refused and nothing is rebuilt", async (_, token, status) => {
    const text = await rebuild(await token(), status);
    expect(JSON.parse(text).error.message).toMatch(/\w/);
    expect(await firstHourRows()).toBe(0);
  });

  test.each(
    [
      ["rebuild as a string", '{"rebuild":"yes"}', 400],
      ["an unknown field", '{"rebuild":true,"workers":64}', 400],
      ["not JSON", '{"rebuild":', 400],
      ["a body past 1 KB", JSON.stringify({ rebuild: true, pad: "x".repeat(2048) }), 413],
    ] as const,
  )("an admin's request with %s is refused and nothing is rebuilt", async (_, body, status) => {
    await rebuild(r.admin, status, body);
    expect(await firstHourRows()).toBe(0);
  });

  test("an admin's rebuild brings the hour back", async () => {
    const run = JSON.parse(await rebuild(r.admin, 200));
    expect(run.sessions).toBe(6);
    expect(await firstHourRows()).toBe(1);
  });
});
