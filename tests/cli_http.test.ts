/**
 * The CLI's HTTP calls: a site that accepts the connection and never answers
 * does not hang a command (a real TCP listener on loopback that reads
 * nothing), and a busy site's `Retry-After` is waited for and the request
 * tried again (a real `Deno.serve` answering 429, then 200).
 */
import { describe, expect, test } from "vitest";
import { meter, STACK_FRAME } from "./helpers/meter_cli.ts";

/** Accepts connections and holds them open without a word. */
function silentListener() {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  (async () => {
    for await (const conn of listener) held.push(conn);
  })().catch(() => {});
  return {
    url: `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    close() {
      for (const conn of held) conn.close();
      listener.close();
    },
  };
}

describe("meter's HTTP calls", () => {
  test("an unresponsive site: a clear error after --timeout, naming the site", async () => {
    const site = silentListener();
    try {
      // Without a time limit this waited for ever (here: until the helper kills it).
      const fromEnv = await meter(["usage", "--site", site.url, "--token", "t"], {
        env: { METER_TIMEOUT: "1" },
        timeoutMs: 30_000,
      });
      expect(fromEnv.stderr).toContain(`the site at ${site.url} did not answer within 1 s`);
      expect(fromEnv.code).toBe(1);
      expect(fromEnv.stderr).not.toMatch(STACK_FRAME);
      // Exit code 1 is its own: a hung CLI would have been killed by the helper's time limit.
      const flag = ["rules", "list", "--site", site.url, "--token", "t", "--timeout", "1.5"];
      const fromFlag = await meter(flag, { env: { METER_TIMEOUT: "100" }, timeoutMs: 30_000 });
      expect(fromFlag.code).toBe(1);
      expect(fromFlag.stderr).toContain("did not answer within 1.5 s");
    } finally {
      site.close();
    }
  });

  test("429 with Retry-After: 1 is waited for and the request tried again", async () => {
    const seen: number[] = [];
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
      seen.push(Date.now());
      if (seen.length === 1) {
        return Response.json({ error: { code: "rate_limited", message: "slow down" } }, {
          status: 429,
          headers: { "retry-after": "1" },
        });
      }
      return Response.json({ rules: [] });
    });
    try {
      const url = `http://127.0.0.1:${server.addr.port}`;
      const result = await meter([
        "rules",
        "list",
        "--site",
        url,
        "--token",
        "t",
        "--format",
        "json",
      ]);
      expect(result.stderr).toContain("answered 429");
      expect(result.stderr).toContain("trying again in 1 s");
      expect(result.code).toBe(0);
      expect(JSON.parse(result.stdout)).toEqual([]);
      expect(seen).toHaveLength(2);
      expect(seen[1] - seen[0]).toBeGreaterThanOrEqual(900);
    } finally {
      await server.shutdown();
    }
  });

  test("a site that stays busy: a few tries, then its message and exit 1", async () => {
    let requests = 0;
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
      requests++;
      return Response.json({ error: { code: "busy", message: "try later" } }, {
        status: 503,
        headers: { "retry-after": "0" },
      });
    });
    try {
      const url = `http://127.0.0.1:${server.addr.port}`;
      const result = await meter(["sites", "list", "--site", url, "--token", "t"]);
      expect(result.code).toBe(1);
      expect(requests).toBe(4);
      expect(result.stderr).not.toMatch(STACK_FRAME);
      expect(result.stderr).toMatch(/meter sites: GET \/v1\/sites: HTTP 503: try later/);
    } finally {
      await server.shutdown();
    }
  });
});
