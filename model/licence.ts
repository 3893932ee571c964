/**
 * Licences: what the organisation owns of a product, and how it is counted.
 * A licence pools one or more rules (so "AutoCAD 2024" and "AutoCAD 2025"
 * share one pool) and counts them under one model:
 *
 * | model | consumes one licence per |
 * | --- | --- |
 * | `device` | computer where a rule of the pool is installed |
 * | `user` | distinct user whose run time in the window reaches the threshold |
 * | `concurrent` | user in the exact peak of concurrent distinct users in the window |
 *
 * A computer or user "uses" the product when its total run time of the
 * pool's programs in the last `windowDays` days reaches `thresholdMinutes`.
 * A licence covers the subtree of `coversSite`; it is made, and changed
 * only, at `siteCode`. How it is stored in the `licences/<site>` document is
 * in `licence_record.ts`.
 *
 * @module
 */
import { z } from "zod";
import { siteCodeSchema } from "./doc_id.ts";
import { ruleIdSchema } from "./rule.ts";

/** `<site>-L<n>`, e.g. `S01-L3`. */
export const licenceIdSchema = z.string().regex(
  /^[A-Z0-9]{3}-L\d{1,9}$/,
  "a licence id looks like S01-L3",
);

export const LICENCE_MODELS = ["device", "user", "concurrent"] as const;
export const COST_PERIODS = ["year", "month", "perpetual"] as const;

const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "a date is YYYY-MM-DD").refine(
  (value) => new Date(`${value}T00:00:00Z`).toISOString().startsWith(value),
  "not a real calendar date",
);

/** What an administrator may set on a licence. */
/** A message for a missing field only; other problems keep zod's own. */
const required = (message: string) => (issue: { input: unknown }) =>
  issue.input === undefined ? message : undefined;

export const licenceFieldsSchema = z.object({
  name: z.string({ error: required("name is required: the product name shown in positions") })
    .trim().min(1, "name is required: the product name shown in positions").max(200),
  ruleIds: z.array(ruleIdSchema, { error: required("ruleIds is required: the rules of the pool") })
    .min(1, "ruleIds needs at least one rule").max(50)
    .refine((ids) => new Set(ids).size === ids.length, "ruleIds names a rule twice"),
  model: z.enum(LICENCE_MODELS, { error: "model is one of device, user, concurrent" }),
  quantity: z.number({ error: required("quantity is required: the licences owned") }).int()
    .min(0, "quantity cannot be negative").max(100_000_000),
  unitCost: z.number().min(0, "unitCost cannot be negative").max(1e9).nullable().optional(),
  costPeriod: z.enum(COST_PERIODS).optional(),
  currency: z.string().regex(/^[A-Z]{3}$/, "currency is a 3-letter code such as EUR").optional(),
  contractStart: day.nullable().optional(),
  contractEnd: day.nullable().optional(),
  coversSite: siteCodeSchema.optional(),
  thresholdMinutes: z.number().int().min(0).max(100_000).optional(),
  windowDays: z.number().int().min(1, "windowDays is at least 1").max(36500).optional(),
  alertAtPercent: z.number().int().min(1).max(1000).nullable().optional(),
  comment: z.string().max(2000).optional(),
}).strict();

export type LicenceFields = z.infer<typeof licenceFieldsSchema>;

export const licenceSchema = z.object({
  id: licenceIdSchema,
  name: z.string(),
  ruleIds: z.array(ruleIdSchema),
  model: z.enum(LICENCE_MODELS),
  quantity: z.number().int().min(0),
  unitCost: z.number().min(0).nullable(),
  costPeriod: z.enum(COST_PERIODS),
  currency: z.string(),
  contractStart: z.string().nullable(),
  contractEnd: z.string().nullable(),
  coversSite: siteCodeSchema,
  thresholdMinutes: z.number().int().min(0),
  windowDays: z.number().int().min(1),
  alertAtPercent: z.number().int().nullable(),
  siteCode: siteCodeSchema,
  comment: z.string(),
  createdAt: z.number(),
  updatedAt: z.number(),
});

export type Licence = z.infer<typeof licenceSchema>;
export type LicenceModel = Licence["model"];

/** A licence's fields in the order listings and CSV show them. */
export const LICENCE_COLUMNS = Object.keys(licenceSchema.shape) as (keyof Licence)[];

/** Defaults of the fields an administrator may leave out. */
export const LICENCE_DEFAULTS = {
  unitCost: null,
  costPeriod: "year",
  currency: "",
  contractStart: null,
  contractEnd: null,
  thresholdMinutes: 1,
  windowDays: 90,
  alertAtPercent: null,
  comment: "",
} as const satisfies Partial<Licence>;

/** A contract that ends before it starts; undefined when the dates are in order. */
export function contractProblem(l: Pick<Licence, "contractStart" | "contractEnd">) {
  return l.contractStart && l.contractEnd && l.contractEnd < l.contractStart
    ? "contractEnd is before contractStart"
    : undefined;
}

/** Whether the licence is owned on the UTC day of `at` (inside its contract, ends inclusive). */
export function inContract(l: Pick<Licence, "contractStart" | "contractEnd">, at: number) {
  const today = new Date(at).toISOString().slice(0, 10);
  return (!l.contractStart || l.contractStart <= today) &&
    (!l.contractEnd || today <= l.contractEnd);
}
