/**
 * A licence's position: what is owned against what is consumed under its
 * model, over the licence's whole subtree, as of the instant its figures
 * were computed from.
 *
 * | model | consumed |
 * | --- | --- |
 * | `device` | computers where a rule of the pool is installed, or that used it in the window |
 * | `user` | users whose run time in the window reaches the threshold |
 * | `concurrent` | the exact peak of concurrent users in the window |
 *
 * A licence outside its contract on the day of `computedAt` owns nothing.
 * Costs are per licence and period as the licence states them:
 * `shortfallCost` is what the missing licences would cost, `surplusCost`
 * what the owned but unconsumed ones do.
 *
 * @module
 */
import { z } from "zod";
import { COST_PERIODS, LICENCE_MODELS } from "../../model/licence.ts";

export const licencePositionSchema = z.object({
  licenceId: z.string(),
  name: z.string(),
  model: z.enum(LICENCE_MODELS),
  siteCode: z.string(),
  coversSite: z.string(),
  inContract: z.boolean(),
  /** The quantity, or 0 outside the contract. */
  owned: z.number(),
  consumed: z.number(),
  /** Computers where a rule of the pool is installed. */
  installed: z.number(),
  /** Computers (device) or users (user, concurrent) that used it above the threshold. */
  used: z.number(),
  /** Holders below the threshold: installed computers (device) or known users (user). */
  reclaimable: z.number(),
  surplus: z.number(),
  shortfall: z.number(),
  /** consumed / owned in percent; null when nothing is owned. */
  percent: z.number().nullable(),
  unitCost: z.number().nullable(),
  costPeriod: z.enum(COST_PERIODS),
  currency: z.string(),
  shortfallCost: z.number().nullable(),
  surplusCost: z.number().nullable(),
  /** The instant of the concurrent peak (concurrent model). */
  peakAt: z.string().nullable(),
  windowFrom: z.string(),
  /** The oldest instant the figures of the sites counted were computed at. */
  computedAt: z.string().nullable(),
  /** Sites whose figures are counted (this one and those below that reported). */
  sites: z.number(),
});

export type LicencePosition = z.infer<typeof licencePositionSchema>;
