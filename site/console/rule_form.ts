/**
 * A rule form as the console posts it, turned into the fields the API takes
 * and checked with the API's own schema, so a person sees the API's messages,
 * each beside the field it is about. Empty text fields mean "not set" (null,
 * which clears a field when editing); checkboxes are on when present.
 *
 * @module
 */
import { type RuleFields, ruleFieldsSchema, ruleMatchProblem } from "../../model/rule.ts";

export const TEXT_FIELDS = [
  "name",
  "fileName",
  "originalFileName",
  "sha256",
  "version",
  "language",
  "comment",
] as const;

export type FormValues = Record<string, string | boolean>;

export type FormCheck =
  | { ok: true; fields: RuleFields }
  | { ok: false; errors: Record<string, string> };

/** The form's values as posted: strings trimmed, checkboxes as booleans. */
export function formValues(body: Record<string, unknown>): FormValues {
  const values: FormValues = {};
  for (const key of TEXT_FIELDS) {
    const value = body[key];
    values[key] = typeof value === "string" ? value.trim() : "";
  }
  values.enabled = body.enabled === "on";
  values.applyToChildSites = body.applyToChildSites === "on";
  return values;
}

/** Checks the values with the API's schema; errors keyed by field (`form` for the whole rule). */
export function checkRuleForm(values: FormValues): FormCheck {
  const input: Record<string, unknown> = {
    enabled: values.enabled,
    applyToChildSites: values.applyToChildSites,
    comment: values.comment,
  };
  for (const key of ["name", "fileName", "originalFileName", "sha256", "language"]) {
    input[key] = values[key] === "" ? (key === "name" ? undefined : null) : values[key];
  }
  input.version = values.version === "" ? "*" : values.version;
  const parsed = ruleFieldsSchema.safeParse(input);
  if (!parsed.success) {
    const errors: Record<string, string> = {};
    for (const issue of parsed.error.issues) {
      const field = String(issue.path[0] ?? "form");
      errors[field] ??= issue.message;
    }
    return { ok: false, errors };
  }
  const problem = ruleMatchProblem({
    fileName: parsed.data.fileName ?? null,
    originalFileName: parsed.data.originalFileName ?? null,
    sha256: parsed.data.sha256 ?? null,
  });
  if (problem) return { ok: false, errors: { fileName: problem } };
  return { ok: true, fields: parsed.data };
}
