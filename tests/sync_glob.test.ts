import { describe, expect, it } from "vitest";
import { compileGlob, globToRegExp, hasWildcard } from "../model/glob.ts";

describe("compileGlob", () => {
  it("matches * as any run of characters, including none", () => {
    const matches = compileGlob("code*");
    expect(matches("code")).toBe(true);
    expect(matches("code-insiders")).toBe(true);
    expect(matches("vscode")).toBe(false);
    expect(compileGlob("*office*")("libreoffice7.6")).toBe(true);
  });

  it("matches ? as exactly one character", () => {
    const matches = compileGlob("python3.?");
    expect(matches("python3.9")).toBe(true);
    expect(matches("python3.")).toBe(false);
    expect(matches("python3.11")).toBe(false);
    expect(compileGlob("?")("é")).toBe(true);
    expect(compileGlob("?")("😀")).toBe(true);
  });

  it("takes every other character literally", () => {
    expect(compileGlob("a.b")("a.b")).toBe(true);
    expect(compileGlob("a.b")("axb")).toBe(false);
    expect(compileGlob("a+(b)[c]{2}|^$\\d/")("a+(b)[c]{2}|^$\\d/")).toBe(true);
    expect(compileGlob("g++*")("g++-12")).toBe(true);
    expect(compileGlob("g++*")("gg-12")).toBe(false);
    expect(compileGlob("x-[y].*")("x-[y].exe")).toBe(true);
  });

  it("is case-sensitive unless asked otherwise", () => {
    expect(compileGlob("Firefox")("firefox")).toBe(false);
    expect(compileGlob("Firefox", { caseInsensitive: true })("FIREFOX")).toBe(true);
    expect(compileGlob("Fire*", { caseInsensitive: true })("firefox-esr")).toBe(true);
    expect(compileGlob("fire*")("Firefox")).toBe(false);
  });

  it("matches anything with a bare *, the empty string included", () => {
    expect(compileGlob("*")("")).toBe(true);
    expect(compileGlob("**")("anything at all")).toBe(true);
  });

  it("anchors the whole string and spans newlines", () => {
    expect(compileGlob("ab")("xab")).toBe(false);
    expect(compileGlob("a*b")("a\nb")).toBe(true);
  });
});

describe("globToRegExp and hasWildcard", () => {
  it("builds an anchored expression", () => {
    expect(globToRegExp("a*").test("abc")).toBe(true);
    expect(globToRegExp("A*", { caseInsensitive: true }).flags).toContain("i");
  });

  it("tells literal names from patterns", () => {
    expect(hasWildcard("sleep")).toBe(false);
    expect(hasWildcard("sl*p")).toBe(true);
    expect(hasWildcard("sle?p")).toBe(true);
  });
});
