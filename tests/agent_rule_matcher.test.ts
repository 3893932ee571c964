import { describe, expect, it } from "vitest";
import type { ProcessInfo } from "../agent/core/process_source.ts";
import { compareRuleIds, RuleMatcher } from "../agent/core/rule_matcher.ts";
import type { Rule } from "../model/rule.ts";
import { testRule } from "./helpers/test_rule.ts";

const rule = testRule;

function process(exe: string | null, argv0: string): ProcessInfo {
  return { pid: 42, startTicks: 1, startMs: 0, ppid: 1, comm: "x", exe, argv0 };
}

/** A lazy fact that counts how often it is fetched. */
function fact(value: string | null) {
  const fetch = () => {
    fetch.calls++;
    return Promise.resolve(value);
  };
  fetch.calls = 0;
  return fetch;
}

const HASH = "a".repeat(64);
const ids = (rules: Rule[]) => rules.map((r) => r.id);

describe("RuleMatcher.candidates", () => {
  const matcher = new RuleMatcher([
    rule("S01-10", { fileName: "python3*" }),
    rule("S01-2", { fileName: "Firefox" }),
    rule("S01-3", { originalFileName: "firefox-bin" }),
    rule("S01-4", { sha256: HASH }),
    rule("S01-5", { fileName: "code", enabled: false }),
    rule("S01-6", { originalFileName: "fire*" }),
    rule("A01-1", { fileName: "*" }),
  ]);

  it("ignores disabled rules", () => {
    expect(matcher.size).toBe(6);
    expect(ids(matcher.candidates(process("/usr/bin/code", "code")))).toEqual(["A01-1", "S01-4"]);
  });

  it("matches file names on the executable's and argv[0]'s base names, ignoring case", () => {
    expect(ids(matcher.candidates(process("/usr/lib/firefox/firefox", "firefox")))).toEqual([
      "A01-1",
      "S01-2",
      "S01-4",
      "S01-6",
    ]);
    expect(ids(matcher.candidates(process(null, "/usr/local/bin/FIREFOX")))).toEqual([
      "A01-1",
      "S01-2",
      "S01-4",
    ]);
    expect(ids(matcher.candidates(process("/usr/bin/python3.11", "python3")))).toEqual([
      "A01-1",
      "S01-4",
      "S01-10",
    ]);
  });

  it("matches original file names on the executable only", () => {
    expect(ids(matcher.candidates(process("/opt/ff/firefox-bin", "ff")))).toContain("S01-3");
    expect(ids(matcher.candidates(process("/opt/ff/ff", "firefox-bin")))).not.toContain("S01-3");
  });
});

describe("RuleMatcher.match", () => {
  it("matches by name without fetching the hash, then fetches the version to record it", async () => {
    const matcher = new RuleMatcher([rule("S01-1", { fileName: "gimp*" })]);
    const [hash, version] = [fact(HASH), fact("2.10.34-1")];
    const found = await matcher.match(
      process("/usr/bin/gimp-2.10", "gimp"),
      undefined,
      hash,
      version,
    );
    expect(found?.rule.id).toBe("S01-1");
    expect(found?.version).toBe("2.10.34-1");
    expect([hash.calls, version.calls]).toEqual([0, 1]);
  });

  it("fetches nothing when no rule can match", async () => {
    const matcher = new RuleMatcher([rule("S01-1", { fileName: "gimp*", version: "2.*" })]);
    const [hash, version] = [fact(HASH), fact("2.10")];
    expect(await matcher.match(process("/usr/bin/vim", "vim"), undefined, hash, version))
      .toBeUndefined();
    expect([hash.calls, version.calls]).toEqual([0, 0]);
  });

  it("matches by content hash, fetching it once for all rules", async () => {
    const matcher = new RuleMatcher([
      rule("S01-1", { sha256: "b".repeat(64) }),
      rule("S01-2", { sha256: HASH.toUpperCase() }),
    ]);
    const [hash, version] = [fact(HASH), fact(null)];
    const found = await matcher.match(process("/tmp/renamed", "renamed"), undefined, hash, version);
    expect(found).toEqual({ rule: expect.objectContaining({ id: "S01-2" }), version: null });
    expect(hash.calls).toBe(1);
    expect(await matcher.match(process("/tmp/x", "x"), undefined, fact(null), fact(null)))
      .toBeUndefined();
  });

  it("needs a known version that matches unless the version glob is *", async () => {
    const matcher = new RuleMatcher([
      rule("S01-1", { fileName: "firefox", version: "115.*" }),
      rule("S01-2", { fileName: "firefox", version: "*" }),
    ]);
    const firefox = process("/usr/lib/firefox/firefox", "firefox");
    const match = (version: string | null) =>
      matcher.match(firefox, undefined, fact(null), fact(version));
    expect(await match("115.3.1esr-1")).toMatchObject({
      rule: { id: "S01-1" },
      version: "115.3.1esr-1",
    });
    expect(await match("128.0-1")).toMatchObject({ rule: { id: "S01-2" }, version: "128.0-1" });
    expect(await match(null)).toMatchObject({ rule: { id: "S01-2" }, version: null });
  });

  it("takes the lowest matching rule id", async () => {
    const matcher = new RuleMatcher([
      rule("S01-10", { fileName: "vim" }),
      rule("S01-9", { originalFileName: "vim.basic" }),
    ]);
    const found = await matcher.match(
      process("/usr/bin/vim.basic", "vim"),
      undefined,
      fact(null),
      fact(null),
    );
    expect(found?.rule.id).toBe("S01-9");
  });

  it("compares languages, accepting a process's language for a rule's region", async () => {
    const cases: [string | null, string | null | undefined, boolean][] = [
      [null, undefined, true],
      ["", "de", true],
      ["any", null, true],
      ["*", "fr", true],
      ["de", "de", true],
      ["DE", "de", true],
      ["en-US", "en", true],
      ["en_GB", "en", true],
      ["de", "fr", false],
      ["de", null, false],
      ["de", undefined, false],
      ["en-US", "fr", false],
    ];
    for (const [language, processLanguage, matches] of cases) {
      const matcher = new RuleMatcher([rule("S01-1", { fileName: "app", language })]);
      const details = processLanguage === undefined ? undefined : { language: processLanguage };
      const found = await matcher.match(
        process("/opt/app", "app"),
        details,
        fact(null),
        fact(null),
      );
      expect(Boolean(found), `${language} vs ${processLanguage}`).toBe(matches);
    }
  });
});

describe("RuleMatcher on Windows: Configuration Manager's meaning", () => {
  /** A Windows process whose version resource names it `original`. */
  function windowsProcess(exe: string, original: string | null): ProcessInfo {
    const name = exe.slice(exe.lastIndexOf("\\") + 1);
    return { ...process(exe, name), comm: name, originalName: original };
  }

  it("matches originalFileName on the version resource's name, so a renamed copy still counts", async () => {
    const matcher = new RuleMatcher([rule("S01-1", { originalFileName: "CADTOOL.EXE" })]);
    const renamed = windowsProcess("C:\\Users\\bob\\Desktop\\mycad.exe", "cadtool.exe");
    expect(ids(matcher.candidates(renamed))).toEqual(["S01-1"]);
    expect((await matcher.match(renamed, undefined, fact(null), fact(null)))?.rule.id).toBe(
      "S01-1",
    );
    // Named like the program, but built as something else: not the program.
    const impostor = windowsProcess("C:\\Tools\\cadtool.exe", "notcad.exe");
    expect(matcher.candidates(impostor)).toEqual([]);
  });

  it("falls back to the file's own name when it has no version resource", () => {
    const matcher = new RuleMatcher([rule("S01-1", { originalFileName: "notepad.exe" })]);
    expect(ids(matcher.candidates(windowsProcess("C:\\windows\\notepad.exe", null))))
      .toEqual(["S01-1"]);
  });

  it("takes file names from Windows paths, ignoring case", () => {
    const matcher = new RuleMatcher([rule("S01-1", { fileName: "Excel.exe" })]);
    const excel = windowsProcess("C:\\Program Files\\Office\\EXCEL.EXE", null);
    expect(ids(matcher.candidates(excel))).toEqual(["S01-1"]);
  });

  it("accepts a Windows language id, a tag or any, against the resource's language", async () => {
    const cases: [string, string, boolean][] = [
      ["1031", "de-DE", true],
      ["0x0407", "de-DE", true],
      ["1033", "de-DE", false],
      ["de-DE", "de-DE", true],
      ["de", "de-DE", true],
      ["de", "de-AT", true],
      ["de-DE", "de-AT", false],
      ["en-US", "de-DE", false],
      ["any", "de-DE", true],
    ];
    for (const [language, resourceLanguage, matches] of cases) {
      const matcher = new RuleMatcher([
        rule("S01-1", { originalFileName: "cadtool.exe", language }),
      ]);
      const found = await matcher.match(
        windowsProcess("C:\\cad\\cadtool.exe", "cadtool.exe"),
        { language: resourceLanguage },
        fact(null),
        fact(null),
      );
      expect(Boolean(found), `${language} vs ${resourceLanguage}`).toBe(matches);
    }
  });

  it("matches version on the FileVersion the platform reads", async () => {
    const matcher = new RuleMatcher([
      rule("S01-1", { originalFileName: "cadtool.exe", version: "24.*" }),
    ]);
    const cad = windowsProcess("C:\\cad\\cadtool.exe", "cadtool.exe");
    expect((await matcher.match(cad, undefined, fact(null), fact("24.1.0.7")))?.version)
      .toBe("24.1.0.7");
    expect(await matcher.match(cad, undefined, fact(null), fact("23.0.0.1"))).toBeUndefined();
  });
});

describe("compareRuleIds", () => {
  it("orders by site, then by number", () => {
    const sorted = ["S02-1", "S01-10", "S01-9", "A01-100"].map((id) => ({ id }))
      .sort(compareRuleIds).map((r) => r.id);
    expect(sorted).toEqual(["A01-100", "S01-9", "S01-10", "S02-1"]);
  });
});
