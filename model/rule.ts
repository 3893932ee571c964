/**
 * Metering rules: which programs to meter, and what an administrator may set
 * on one. How a rule is stored in the `rules/<site>` document is in
 * `rule_record.ts`.
 *
 * A process matches a rule when any of `fileName` (a glob on the executable's
 * base name or argv[0]), `originalFileName` (the base name of the real
 * executable behind a link or rename) or `sha256` (of the executable) matches,
 * and `version` and `language` match too.
 *
 * @module
 */
import { z } from "zod";
import { siteCodeSchema } from "./doc_id.ts";

/** `<site>-<n>`, e.g. `S01-7`. */
export const ruleIdSchema = z.string().regex(/^[A-Z0-9]{3}-\d{1,9}$/, "a rule id looks like S01-7");

const glob = z.string().trim().min(1).max(255).refine(
  (value) => !value.includes("/"),
  "a file name has no '/': give the base name, such as python3 or code*",
);

/** What an administrator may set on a rule. */
export const ruleFieldsSchema = z.object({
  name: z.string({ error: "name is required: the product name shown in reports" }).trim()
    .min(1, "name is required: the product name shown in reports").max(200),
  fileName: glob.nullable().optional(),
  originalFileName: glob.nullable().optional(),
  sha256: z.string().regex(/^[0-9a-fA-F]{64}$/, "sha256 is 64 hexadecimal digits")
    .transform((value) => value.toLowerCase()).nullable().optional(),
  version: z.string().trim().min(1).max(100).optional(),
  language: z.string().trim().min(1).max(35).nullable().optional(),
  applyToChildSites: z.boolean().optional(),
  enabled: z.boolean().optional(),
  comment: z.string().max(2000).optional(),
}).strict();

export type RuleFields = z.infer<typeof ruleFieldsSchema>;

export const ruleSchema = z.object({
  id: ruleIdSchema,
  name: z.string(),
  fileName: z.string().nullable(),
  originalFileName: z.string().nullable(),
  sha256: z.string().nullable(),
  version: z.string(),
  language: z.string().nullable(),
  siteCode: siteCodeSchema,
  applyToChildSites: z.boolean(),
  enabled: z.boolean(),
  comment: z.string(),
  origin: z.enum(["manual", "auto"]),
  createdAt: z.number(),
  updatedAt: z.number(),
});

export type Rule = z.infer<typeof ruleSchema>;

/** A rule's fields in the order listings and CSV show them. */
export const RULE_COLUMNS = Object.keys(ruleSchema.shape) as (keyof Rule)[];

/** A rule needs something to match on. */
export function ruleMatchProblem(rule: Pick<Rule, "fileName" | "originalFileName" | "sha256">) {
  return rule.fileName || rule.originalFileName || rule.sha256
    ? undefined
    : "a rule needs at least one of fileName, originalFileName, sha256";
}
