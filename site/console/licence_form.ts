/**
 * A licence form as the console posts it, turned into the fields the API
 * takes and checked with the API's own schema, so a person sees the API's
 * messages beside the fields they are about. Empty text means "not set";
 * numbers are read as numbers; the pool's rules are the boxes ticked.
 *
 * @module
 */
import { type LicenceFields, licenceFieldsSchema } from "../../model/licence.ts";
import type { Licence } from "../../model/licence.ts";

export type LicenceFormValues = Record<string, string | string[]>;

const TEXT = ["name", "model", "costPeriod", "currency", "coversSite", "comment"] as const;
const DATES = ["contractStart", "contractEnd"] as const;
const NUMBERS = [
  "quantity",
  "unitCost",
  "thresholdMinutes",
  "windowDays",
  "alertAtPercent",
] as const;
const NULLABLE = new Set(["unitCost", "alertAtPercent", "contractStart", "contractEnd"]);

export type LicenceFormCheck =
  | { ok: true; fields: LicenceFields }
  | { ok: false; errors: Record<string, string> };

/** The values as posted, text trimmed; `ruleIds` from every ticked box. */
export function licenceFormValues(body: Record<string, unknown>): LicenceFormValues {
  const values: LicenceFormValues = {};
  for (const key of [...TEXT, ...DATES, ...NUMBERS]) {
    const value = body[key];
    values[key] = typeof value === "string" ? value.trim() : "";
  }
  const rules = body["ruleIds"] ?? body["ruleIds[]"];
  values.ruleIds = (Array.isArray(rules) ? rules : rules === undefined ? [] : [rules])
    .filter((r): r is string => typeof r === "string");
  return values;
}

/** Checks the values with the API's schema; errors keyed by field. */
export function checkLicenceForm(values: LicenceFormValues, editing: boolean): LicenceFormCheck {
  const input: Record<string, unknown> = { ruleIds: values.ruleIds };
  const errors: Record<string, string> = {};
  for (const key of [...TEXT, ...DATES]) {
    const value = values[key] as string;
    if (value !== "") input[key] = value;
    else if (NULLABLE.has(key) && editing) input[key] = null;
  }
  for (const key of NUMBERS) {
    const value = values[key] as string;
    if (value === "") {
      if (NULLABLE.has(key) && editing) input[key] = null;
      continue;
    }
    const number = Number(value);
    if (Number.isFinite(number)) input[key] = number;
    else errors[key] = `${key} is a number, not '${value.slice(0, 40)}'`;
  }
  const parsed = licenceFieldsSchema.safeParse(input);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      errors[String(issue.path[0] ?? "form")] ??= issue.message;
    }
  }
  if (!parsed.success || Object.keys(errors).length > 0) return { ok: false, errors };
  return { ok: true, fields: parsed.data };
}

/** A licence's current values, to fill the edit form. */
export function licenceValuesOf(l: Licence): LicenceFormValues {
  const text = (v: string | number | null) => v === null ? "" : String(v);
  return {
    name: l.name,
    ruleIds: l.ruleIds,
    model: l.model,
    quantity: text(l.quantity),
    unitCost: text(l.unitCost),
    costPeriod: l.costPeriod,
    currency: l.currency,
    contractStart: text(l.contractStart),
    contractEnd: text(l.contractEnd),
    coversSite: l.coversSite,
    thresholdMinutes: text(l.thresholdMinutes),
    windowDays: text(l.windowDays),
    alertAtPercent: text(l.alertAtPercent),
    comment: l.comment,
  };
}

/**
 * The field an editor's refusal names (its message reads `invalid body:
 * <field>: <problem>`), so it can be shown beside that field.
 */
export function refusalField(message: string): [string, string] {
  const match = /^invalid body: (\w+): (.*)$/s.exec(message);
  return match ? [match[1], match[2]] : ["form", message];
}
