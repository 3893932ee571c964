/**
 * The membership language of collections: a JSON expression that says which
 * computers belong, defined with zod so that requests are validated by it and
 * the OpenAPI document describes it.
 *
 * An expression is an object with exactly one key:
 *
 * | expression | a computer belongs when |
 * | --- | --- |
 * | `{ranRule: {rule, withinDays}}` | it ran the rule's program at some moment in the last `withinDays` days (a session still running counts) |
 * | `{notRunSince: {rule, since}}` | it ran the program before `since` and never at or after it |
 * | `{timeZone: {equals}}` | its time zone is exactly `equals` (an IANA name, e.g. `Europe/Paris`) |
 * | `{hostName: {glob}}` | its host name matches the glob (`*` any run of characters, `?` one; any case) |
 * | `{installed: {product, version?}}` | its inventory holds a product whose name matches the glob `product`, and whose version matches the glob `version` when given (any case) |
 * | `{and: [e, ...]}`, `{or: [e, ...]}`, `{not: e}` | all of, any of, or not the expressions |
 *
 * Expressions nest at most {@linkcode MAX_DEPTH} levels and hold at most
 * {@linkcode MAX_NODES} expressions. Those bounds are checked on the raw JSON
 * before zod walks it ({@linkcode checkMembershipBounds}), so a deep body
 * cannot exhaust the stack.
 *
 * @module
 */
import { z } from "zod";
import { ruleIdSchema } from "../../model/rule.ts";
import { badRequest } from "../http/api_error.ts";

export const MAX_DEPTH = 8;
export const MAX_NODES = 64;

const ISO_INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?$/;
const NOT_ISO = "give an ISO date (2026-05-01) or date-time with offset (2026-05-01T08:00:00Z)";

/** An ISO date (midnight UTC) or date-time with offset, as ms; `NaN` if it is not one. */
export function instantOf(value: string): number {
  const match = ISO_INSTANT.exec(value);
  if (!match) return NaN;
  const [year, month, day] = match.slice(1, 4).map(Number);
  if (new Date(Date.UTC(year, month - 1, day)).getUTCDate() !== day) return NaN;
  return Date.parse(match[4] ? value : `${value}T00:00:00Z`);
}

const ruleRef = ruleIdSchema.describe("a rule id, e.g. S01-7 (see GET /v1/rules)");

const ranRuleSchema = z.object({
  rule: ruleRef,
  withinDays: z.number().positive().max(36500)
    .describe("days back from now; fractions allowed (0.5 is twelve hours)"),
}).strict().describe("ran the rule's program at some moment in the last withinDays days");

const notRunSinceSchema = z.object({
  rule: ruleRef,
  since: z.string().refine((value) => !Number.isNaN(instantOf(value)), NOT_ISO)
    .describe("an ISO date (midnight UTC) or date-time with offset"),
}).strict().describe("ran the rule's program before since, and never at or after it");

const timeZoneSchema = z.object({
  equals: z.string().min(1).max(100).describe("an IANA time zone, e.g. Europe/Paris"),
}).strict().describe("the computer's time zone, as its agent reports it");

const hostNameSchema = z.object({
  glob: z.string().min(1).max(255).describe("* matches any run of characters, ? one; any case"),
}).strict().describe("the computer's host name matches the glob");

const installedSchema = z.object({
  product: z.string().min(1).max(255).describe("a glob on the product name, e.g. code or python3*"),
  version: z.string().min(1).max(255).optional().describe("a glob on its version, e.g. 1.9*"),
}).strict().describe("the computer's inventory holds a matching product");

export type RanRule = z.infer<typeof ranRuleSchema>;
export type NotRunSince = z.infer<typeof notRunSinceSchema>;

export interface Membership {
  ranRule?: RanRule;
  notRunSince?: NotRunSince;
  timeZone?: { equals: string };
  hostName?: { glob: string };
  installed?: { product: string; version?: string };
  and?: Membership[];
  or?: Membership[];
  not?: Membership;
}

const KINDS = [
  "ranRule",
  "notRunSince",
  "timeZone",
  "hostName",
  "installed",
  "and",
  "or",
  "not",
] as const;

export const membershipSchema: z.ZodType<Membership> = z.lazy(() =>
  z.object({
    ranRule: ranRuleSchema.optional(),
    notRunSince: notRunSinceSchema.optional(),
    timeZone: timeZoneSchema.optional(),
    hostName: hostNameSchema.optional(),
    installed: installedSchema.optional(),
    and: z.array(membershipSchema).min(1).max(MAX_NODES).optional()
      .describe("the computers that match every expression"),
    or: z.array(membershipSchema).min(1).max(MAX_NODES).optional()
      .describe("the computers that match any expression"),
    not: membershipSchema.optional().describe("the enrolled computers that do not match"),
  }).strict().refine(
    (node) => Object.keys(node).length === 1,
    `an expression has exactly one of ${KINDS.join(", ")}`,
  )
).meta({
  id: "Membership",
  description: `Which computers belong: an object with exactly one of ${KINDS.join(", ")}; ` +
    `nested at most ${MAX_DEPTH} levels, at most ${MAX_NODES} expressions in all`,
  minProperties: 1,
  maxProperties: 1,
});

/** `definition`, `definition.and[2].not`: how error messages name a place in an expression. */
export function childPath(path: string, key: string, index?: number): string {
  return index === undefined ? `${path}.${key}` : `${path}.${key}[${index}]`;
}

/** The expressions under `node`, with their paths, whatever their shape. */
function children(node: unknown, path: string): [unknown, string][] {
  if (typeof node !== "object" || node === null || Array.isArray(node)) return [];
  const record = node as Record<string, unknown>;
  const found: [unknown, string][] = [];
  for (const key of ["and", "or"]) {
    const list = record[key];
    if (Array.isArray(list)) list.forEach((e, i) => found.push([e, childPath(path, key, i)]));
  }
  if ("not" in record) found.push([record.not, childPath(path, "not")]);
  return found;
}

/** Throws a 400 naming the place where `value` nests too deep or grows too large. */
export function checkMembershipBounds(value: unknown, path = "definition"): void {
  const stack: [unknown, string, number][] = [[value, path, 1]];
  let nodes = 0;
  while (stack.length > 0) {
    const [node, at, depth] = stack.pop()!;
    if (++nodes > MAX_NODES) {
      throw badRequest(
        `${at}: the definition has more than ${MAX_NODES} expressions; make it simpler`,
        "invalid_input",
      );
    }
    if (depth > MAX_DEPTH) {
      throw badRequest(
        `${at}: expressions nest deeper than ${MAX_DEPTH} levels; make it flatter`,
        "invalid_input",
      );
    }
    // Reversed, so that the first expression in the document is looked at first.
    for (const [child, childAt] of children(node, at).reverse()) {
      stack.push([child, childAt, depth + 1]);
    }
  }
}

/** Every rule an expression names, with the path of each mention. */
export function ruleMentions(expr: Membership, path = "definition"): [string, string][] {
  const own: [string, string][] = [];
  if (expr.ranRule) own.push([expr.ranRule.rule, `${path}.ranRule.rule`]);
  if (expr.notRunSince) own.push([expr.notRunSince.rule, `${path}.notRunSince.rule`]);
  return [
    ...own,
    ...children(expr, path).flatMap(([child, at]) => ruleMentions(child as Membership, at)),
  ];
}
