/**
 * The agent's settings file (`meter agent --config FILE`): JSON with
 * comments, checked by its schema, flags winning over it; a key it does not
 * know, a bad value or a missing site refused with what is wrong; and the
 * packaged `/etc/meter/agent.json` read as it ships.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadAgentConfig } from "../agent/mod.ts";
import { parseJsonc } from "../lib/jsonc.ts";
import { tempDir } from "./helpers/metered_program.ts";

describe("JSON with comments", () => {
  it("blanks comments outside strings and keeps them inside", () => {
    expect(parseJsonc(`{
      // a line comment with "quotes"
      "url": "http://a//b", /* a block
      comment */ "s": "a /* not a comment */ \\" // still a string",
      "n": 1 // the end
    }`)).toEqual({ url: "http://a//b", s: 'a /* not a comment */ " // still a string', n: 1 });
  });

  it("reports errors where the file has them", () => {
    expect(() => parseJsonc('{\n  // ok\n  "a": 1,\n}')).toThrow(SyntaxError);
    expect(() => parseJsonc('{ /* open "a": 1 }')).toThrow(
      /unterminated \/\* comment at position 2/,
    );
  });
});

describe("the agent's settings", () => {
  let temp: Awaited<ReturnType<typeof tempDir>>;
  const file = (name: string) => join(temp.dir, name);

  beforeAll(async () => {
    temp = await tempDir("meter-agent-config-");
  });
  afterAll(async () => await temp?.remove());

  it("reads the packaged file as it ships", async () => {
    const packaged = new URL("../packaging/linux/agent.json", import.meta.url).pathname;
    const config = await loadAgentConfig(packaged, {});
    expect(config.site).toBe("http://meter-site.example:8080");
    expect(config.enrollTokenFile).toBe("/etc/meter/enroll-token");
    expect(config.db).toBe("/var/lib/meter/agent/agent.db");
    expect(config.pollSeconds).toBe(1);
  });

  it("lets flags win over the file and defaults fill the rest", async () => {
    await Deno.writeTextFile(
      file("a.json"),
      '{ "site": "http://a:1", "pollSeconds": 2, "keepDays": 5 }',
    );
    const config = await loadAgentConfig(file("a.json"), { site: "https://b:2", pollSeconds: 0.5 });
    expect(config).toMatchObject({
      site: "https://b:2",
      pollSeconds: 0.5,
      keepDays: 5,
      fallbackSites: [],
    });
    // Unset, the agent syncs when its site says.
    expect(config.syncIntervalSeconds).toBeUndefined();
  });

  it("refuses an unknown key, a bad value and a missing site, saying which", async () => {
    await Deno.writeTextFile(file("typo.json"), '{ "site": "http://a:1", "polSeconds": 2 }');
    await expect(loadAgentConfig(file("typo.json"), {})).rejects.toThrow(
      /unknown key "polSeconds"; the keys are site, fallbackSites/,
    );
    await Deno.writeTextFile(file("bad.json"), '{ "site": "a:1", "pollSeconds": 0, "x": [] }');
    await expect(loadAgentConfig(file("bad.json"), {})).rejects.toThrow(/unknown key "x"/);
    await Deno.writeTextFile(file("bad.json"), '{ "site": "ftp://a", "pollSeconds": 0 }');
    await expect(loadAgentConfig(file("bad.json"), {})).rejects.toThrow(
      /site: a site URL with http:\/\/ or https:\/\/.*; pollSeconds: Too small/,
    );
    await expect(loadAgentConfig(undefined, {})).rejects.toThrow(/the agent needs its site/);
    await Deno.writeTextFile(file("array.json"), "[1]");
    await expect(loadAgentConfig(file("array.json"), {})).rejects.toThrow(
      /is not a JSON object of settings/,
    );
    await expect(loadAgentConfig(file("missing.json"), {})).rejects.toThrow(
      /cannot read the config file .*missing\.json/,
    );
  });
});
