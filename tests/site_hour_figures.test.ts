/**
 * The summariser's hourly sweep against the brute-force oracle, on crowded
 * hours where many runs start, end and last no time at all on the same
 * minutes: the peaks of concurrent sessions and users are where ties at one
 * instant are decided, and an error there shows only when such a tie is the
 * hour's peak.
 */
import { describe, expect, test } from "vitest";
import { hourFigures } from "../site/summaries/hour_figures.ts";
import type { SummarySession } from "../site/summaries/summary_session.ts";
import { SeededRandom } from "../lib/seeded_random.ts";
import { oracleHours, type OracleSession } from "./helpers/summary_oracle.ts";

const MINUTE = 60_000;
const HOUR = 3_600_000;
const FIRST_HOUR = Date.UTC(2026, 11, 3);

/** Sessions of one rule over three hours, on few distinct minutes so instants collide. */
function crowdedSessions(random: SeededRandom, count: number): OracleSession[] {
  return Array.from({ length: count }, () => {
    const start = FIRST_HOUR + random.below(18) * 10 * MINUTE;
    const length = random.next() < 0.3 ? 0 : (1 + random.below(9)) * 10 * MINUTE;
    return {
      client: `c${random.below(5)}`,
      rule: "r",
      user: random.pick(["ann", "bob", "cy"]),
      start,
      end: start + length,
      remote: random.next() < 0.2,
      timeZone: "UTC",
    };
  });
}

function sweep(sessions: OracleSession[]) {
  const keys = new Map<string, number>();
  const keyOf = (name: string) => keys.get(name) ?? keys.set(name, keys.size + 1).get(name)!;
  const asRead: SummarySession[] = sessions.map((s) => ({
    clientId: s.client,
    clientKey: keyOf(`client ${s.client}`),
    ruleId: s.rule,
    user: s.user,
    userKey: keyOf(`user ${s.user}`),
    start: s.start,
    end: s.end,
    remote: s.remote,
  }));
  const hours = new Set(Array.from({ length: 6 }, (_, i) => FIRST_HOUR + i * HOUR));
  const figures = hourFigures(asRead, hours, FIRST_HOUR + 6 * HOUR);
  return Object.fromEntries(
    figures.map(({ ruleId, hour, ...rest }) => [`${ruleId}|${hour}`, rest]),
  );
}

describe("hourly figures", () => {
  test("zero-length runs at one instant are concurrent with each other", () => {
    const at = FIRST_HOUR + 17 * MINUTE;
    const run = (user: string, start: number, end: number): OracleSession => ({
      client: "c1",
      rule: "r",
      user,
      start,
      end,
      remote: false,
      timeZone: "UTC",
    });
    const sessions = [
      run("ann", FIRST_HOUR, FIRST_HOUR + 30 * MINUTE),
      run("bob", at, at),
      run("cy", at, at),
      // Ends as the zero-length runs happen: not running then.
      run("dee", FIRST_HOUR + 5 * MINUTE, at),
    ];
    const hour = sweep(sessions)[`r|${FIRST_HOUR}`];
    expect(hour).toMatchObject({
      peakSessions: 3,
      peakSessionsAt: at,
      peakUsers: 3,
      peakUsersAt: at,
    });
  });

  test("crowded hours equal the brute-force oracle", () => {
    for (let seed = 1; seed <= 200; seed++) {
      const sessions = crowdedSessions(new SeededRandom(seed), 40);
      const oracle = Object.fromEntries(oracleHours(sessions));
      expect(sweep(sessions), `seed ${seed}`).toEqual(oracle);
    }
  });
});
