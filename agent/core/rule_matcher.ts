/**
 * Decides which metering rule, if any, a process falls under.
 *
 * Matching is split in two so that the agent pays for costly facts only for
 * the few processes that could match: {@linkcode RuleMatcher.candidates} is
 * synchronous and looks only at names the process source already has;
 * {@linkcode RuleMatcher.match} then fetches the executable's hash and its
 * package version only when a candidate rule needs them.
 *
 * A rule matches when any of its `fileName` (glob on the base name of the
 * executable or of argv[0]), `originalFileName` (glob on the name the
 * program was built under: on Windows its version resource's
 * `OriginalFilename`, which survives a rename; elsewhere, or without one,
 * the base name of the real executable, behind any link) or `sha256`
 * matches, and its `version` and `language` match too. Names compare without
 * regard to case, and paths split at `\` as well as `/`. When more than one
 * rule matches, the one with the lowest id wins, so every agent decides
 * alike.
 *
 * A rule's language is a tag (`de`, `de-DE`), a Windows language id (`1031`,
 * `0x0407`) or any (`*`, `any`, empty). A tag without a region (`de`)
 * accepts every region of it (`de-AT`), and a process known only by its
 * primary language (`de`, from a Linux locale) is accepted by any region.
 *
 * @module
 */
import type { Rule } from "../../model/rule.ts";
import { compileGlob, type GlobMatcher, hasWildcard } from "../../model/glob.ts";
import { baseName } from "../../lib/base_name.ts";
import { langIdOf, languageTag } from "../../lib/windows_language.ts";
import type { ProcessDetails, ProcessInfo } from "./process_source.ts";

export interface RuleMatch {
  rule: Rule;
  /** The version of the executable's package, or `null` when unknown. */
  version: string | null;
}

interface CompiledRule {
  /** Position in id order. */
  order: number;
  rule: Rule;
  fileName: GlobMatcher | null;
  originalFileName: GlobMatcher | null;
  /** `null` when any version, or none known, will do. */
  version: GlobMatcher | null;
  /** Lowercase language and its primary subtag; `null` when any language will do. */
  language: { tag: string; primary: string } | null;
}

const ANY_LANGUAGE = new Set(["", "any", "*"]);

export class RuleMatcher {
  readonly #rules: CompiledRule[];
  /** Rules whose `fileName` has no wildcard, by lowercase name. */
  readonly #byFileName = new Map<string, CompiledRule[]>();
  /** Rules whose `originalFileName` has no wildcard, by lowercase name. */
  readonly #byOriginalName = new Map<string, CompiledRule[]>();
  /** Rules that must be tested one by one: wildcard names, or a hash. */
  readonly #scanned: CompiledRule[] = [];

  /** Compiles the enabled ones of `rules`; the others are ignored. */
  constructor(rules: Iterable<Rule>) {
    this.#rules = [...rules].filter((rule) => rule.enabled).sort(compareRuleIds)
      .map(compileRule);
    for (const compiled of this.#rules) this.#index(compiled);
  }

  /** How many enabled rules there are. */
  get size(): number {
    return this.#rules.length;
  }

  /** Rules the process may match, judged by names alone, in id order. */
  candidates(process: ProcessInfo): Rule[] {
    return this.#candidates(process).map((compiled) => compiled.rule);
  }

  /**
   * The first rule, in id order, the process matches, with its package
   * version, or `undefined`. `hashOf` and `versionOf` are called at most once
   * each, and only when needed: the hash when a rule can match on nothing
   * else, the version when a rule names one, and once a rule matched, so that
   * the session records the version.
   */
  async match(
    process: ProcessInfo,
    details: Pick<ProcessDetails, "language"> | undefined,
    hashOf: () => Promise<string | null>,
    versionOf: () => Promise<string | null>,
  ): Promise<RuleMatch | undefined> {
    let hash: Promise<string | null> | undefined;
    let version: Promise<string | null> | undefined;
    const names = baseNames(process);
    for (const compiled of this.#candidates(process)) {
      if (!languageMatches(compiled, details?.language ?? null)) continue;
      const sha256 = compiled.rule.sha256?.toLowerCase() ?? null;
      const named = namesMatch(compiled, names) ||
        (sha256 !== null && await (hash ??= hashOf()) === sha256);
      if (!named) continue;
      if (compiled.version) {
        const known = await (version ??= versionOf());
        if (known === null || !compiled.version(known)) continue;
      }
      return { rule: compiled.rule, version: await (version ??= versionOf()) };
    }
    return undefined;
  }

  #index(compiled: CompiledRule): void {
    const { fileName, originalFileName, sha256 } = compiled.rule;
    const literalFile = fileName && !hasWildcard(fileName);
    const literalOriginal = originalFileName && !hasWildcard(originalFileName);
    if (literalFile) push(this.#byFileName, fileName.toLowerCase(), compiled);
    if (literalOriginal) push(this.#byOriginalName, originalFileName.toLowerCase(), compiled);
    const needsScan = (fileName && !literalFile) || (originalFileName && !literalOriginal) ||
      sha256;
    if (needsScan) this.#scanned.push(compiled);
  }

  #candidates(process: ProcessInfo): CompiledRule[] {
    const names = baseNames(process);
    const found = new Set<CompiledRule>();
    for (const name of [names.exe, names.argv0]) {
      for (const compiled of this.#byFileName.get(name.toLowerCase()) ?? []) found.add(compiled);
    }
    for (const compiled of this.#byOriginalName.get(names.original.toLowerCase()) ?? []) {
      found.add(compiled);
    }
    for (const compiled of this.#scanned) {
      if (compiled.rule.sha256 || namesMatch(compiled, names)) found.add(compiled);
    }
    return [...found].sort((a, b) => a.order - b.order);
  }
}

interface BaseNames {
  /** Base name of the executable, `""` when unknown. */
  exe: string;
  /** Base name of argv[0]. */
  argv0: string;
  /** The name the program was built under, else `exe`. */
  original: string;
}

function baseNames(process: ProcessInfo): BaseNames {
  const exe = baseName(process.exe ?? "");
  return { exe, argv0: baseName(process.argv0), original: process.originalName || exe };
}

function namesMatch(compiled: CompiledRule, names: BaseNames): boolean {
  const { fileName, originalFileName } = compiled;
  if (fileName && ((names.exe && fileName(names.exe)) || (names.argv0 && fileName(names.argv0)))) {
    return true;
  }
  return Boolean(originalFileName && names.original && originalFileName(names.original));
}

/**
 * `en-US` in a rule accepts a process whose language is `en-US` or just
 * `en`; `en` accepts any `en-*`.
 */
function languageMatches(compiled: CompiledRule, language: string | null): boolean {
  if (!compiled.language) return true;
  if (language === null) return false;
  const { tag, primary } = compiled.language;
  const found = language.toLowerCase().replace("_", "-");
  if (found === tag || found === primary) return true;
  return tag === primary && primaryOf(found) === primary;
}

/** A rule's language as a lowercase tag; a Windows language id becomes its tag. */
function ruleLanguage(value: string): { tag: string; primary: string } {
  const fromId = /^(0x[0-9a-f]+|\d+)$/i.test(value) ? langIdOf(value) : null;
  const tag = (fromId === null ? value : languageTag(fromId) ?? value).toLowerCase()
    .replace("_", "-");
  return { tag, primary: primaryOf(tag) };
}

function primaryOf(tag: string): string {
  return tag.split("-")[0];
}

function compileRule(rule: Rule, order: number): CompiledRule {
  const glob = (value: string | null) =>
    value ? compileGlob(value, { caseInsensitive: true }) : null;
  const version = rule.version.trim();
  const language = rule.language?.trim().toLowerCase() ?? "";
  return {
    order,
    rule,
    fileName: glob(rule.fileName),
    originalFileName: glob(rule.originalFileName),
    version: /^\**$/.test(version) ? null : glob(version),
    language: ANY_LANGUAGE.has(language) ? null : ruleLanguage(language),
  };
}

/** Rule ids are `<site>-<n>`: by site, then by number (`S01-7` before `S01-10`). */
export function compareRuleIds(a: Pick<Rule, "id">, b: Pick<Rule, "id">): number {
  const [siteA, numberA] = splitRuleId(a.id);
  const [siteB, numberB] = splitRuleId(b.id);
  if (siteA !== siteB) return siteA < siteB ? -1 : 1;
  return numberA - numberB;
}

function splitRuleId(id: string): [string, number] {
  const dash = id.lastIndexOf("-");
  return [id.slice(0, dash), Number(id.slice(dash + 1))];
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
