/**
 * The configuration tables in docs/ are written from the zod schemas: they
 * must be current, and writing one must keep the prose around it.
 */
import { describe, expect, it } from "vitest";
import { fileURLToPath } from "node:url";
import { siteConfigSchema } from "../site/mod.ts";
import { agentConfigSchema } from "../agent/mod.ts";
import {
  configTable,
  markdownTable,
  siteSettingsTable,
  updateDocs,
  withTable,
} from "../scripts/config_docs.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url)).replace(/\/$/, "");

describe("the configuration docs", () => {
  it("are the tables the schemas give", () => {
    expect(updateDocs(ROOT, true)).toEqual([]);
  });

  it("show each key's flag and the schema's default", () => {
    expect(configTable(siteConfigSchema)).toMatch(
      /\| port +\| `--port` +\| `port` +\| `8080` +\|/,
    );
    expect(configTable(agentConfigSchema)).toMatch(
      /\| look at processes every +\| `--poll SECONDS` +\| `pollSeconds` +\| `1` +\|/,
    );
    expect(siteSettingsTable()).toMatch(/\| `rawRetentionDays` +\| 30 +\| raw sessions/);
  });

  it("replace only what stands between the markers, and refuse a file without them", () => {
    const text = "intro\n\n<!-- generated from s by scripts/config_docs.ts: do not edit -->\n\n" +
      "old\n\n<!-- end of s -->\n\noutro\n";
    const table = markdownTable(["a", "bb"], [["1", "2"]]);
    expect(withTable(text, "s", table)).toBe(
      "intro\n\n<!-- generated from s by scripts/config_docs.ts: do not edit -->\n\n" +
        "| a | bb |\n| - | -- |\n| 1 | 2  |\n\n<!-- end of s -->\n\noutro\n",
    );
    expect(() => withTable("no markers", "s", table)).toThrow(/no markers for s/);
  });
});
