import { describe, expect, it } from "vitest";
import { langIdOf, languageTag } from "../lib/windows_language.ts";

describe("languageTag", () => {
  it("maps the common LANGIDs to BCP-47 tags", () => {
    const expected: Record<number, string> = {
      0x0409: "en-US",
      0x0809: "en-GB",
      0x0407: "de-DE",
      0x040C: "fr-FR",
      0x0410: "it-IT",
      0x0C0A: "es-ES",
      0x0411: "ja-JP",
      0x0804: "zh-CN",
      0x0404: "zh-TW",
      0x0412: "ko-KR",
      0x0419: "ru-RU",
      0x0416: "pt-BR",
      0x0816: "pt-PT",
      0x0413: "nl-NL",
      0x041D: "sv-SE",
      0x0406: "da-DK",
      0x0414: "nb-NO",
      0x040B: "fi-FI",
      0x0415: "pl-PL",
      0x0405: "cs-CZ",
      0x040E: "hu-HU",
      0x041F: "tr-TR",
      0x0408: "el-GR",
      0x040D: "he-IL",
      0x0401: "ar-SA",
      0x040A: "es-ES",
      0x241A: "sr-Latn-RS",
    };
    for (const [id, tag] of Object.entries(expected)) expect(languageTag(Number(id))).toBe(tag);
  });

  it("gives null for neutral and default ids, and for what is no LANGID", () => {
    for (const id of [0, 0x0400, 0x0800, 0x0C00, 0x007F, -1, 0x10000, 1.5, NaN]) {
      expect(languageTag(id)).toBeNull();
    }
  });

  it("falls back to the primary language for an unlisted sublanguage", () => {
    expect(languageTag(0x0009)).toBe("en"); // English, neutral sublanguage
    expect(languageTag(0x5009)).toBe("en"); // an English variant not in the table
    expect(languageTag(0x0007)).toBe("de");
    expect(languageTag(0x0001)).toBe("ar");
    expect(languageTag(0x03ff)).toBeNull(); // no such primary language
  });
});

describe("langIdOf", () => {
  it("reads decimal, hex and tags, case-insensitively", () => {
    expect(langIdOf("1033")).toBe(0x0409);
    expect(langIdOf("0x0409")).toBe(0x0409);
    expect(langIdOf("0X040c")).toBe(0x040C);
    expect(langIdOf("en-US")).toBe(0x0409);
    expect(langIdOf("EN-us")).toBe(0x0409);
    expect(langIdOf(" de_de ")).toBe(0x0407);
    expect(langIdOf("sr-latn-rs")).toBe(0x241A);
  });

  it("gives the modern id where two ids share a tag, and a bare language its neutral id", () => {
    expect(langIdOf("es-ES")).toBe(0x0C0A);
    expect(langIdOf("en")).toBe(0x0009);
    expect(langIdOf("ja")).toBe(0x0011);
  });

  it("gives null for what names no LANGID", () => {
    for (const value of ["", "xx-YY", "70000", "0x10000", "0x", "en-", "1e3", "-1"]) {
      expect(langIdOf(value)).toBeNull();
    }
  });

  it("round-trips every tag it knows", () => {
    for (let id = 1; id <= 0xffff; id++) {
      const tag = languageTag(id);
      if (tag === null) continue;
      expect(languageTag(langIdOf(tag)!)).toBe(tag);
    }
  });
});
