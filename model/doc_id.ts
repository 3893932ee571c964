/**
 * Document ids: every document that moves between peers is named by its kind
 * and owner, so access is decided from the id alone.
 *
 * | id | holds | written by |
 * | --- | --- | --- |
 * | `rules/<site>` | that site's metering rules | site `<site>` |
 * | `licences/<site>` | the licences that site owns (read by its child sites, not agents) | site `<site>` |
 * | `usage/<client>/<day>` | sessions that started on that UTC day | agent `<client>` |
 * | `inventory/<client>` | the client's facts (and later its software) | agent `<client>` |
 * | `summary/<site>/<day>/<shard>` | summarised usage | site `<site>` |
 * | `sites/<site>` | the sites below that site: code → actor and parent | site `<site>` |
 * | `clients/<site>/<shard>` | that site's agents' credentials, for fallback | site `<site>` |
 *
 * @module
 */
import { z } from "zod";

/** A site code: three letters or digits, such as `S01`. */
export const siteCodeSchema = z.string().regex(
  /^[A-Z0-9]{3}$/,
  "a site code is 3 capital letters or digits, such as S01",
);
/** A client id as the site issues it at enrolment. */
export const clientIdSchema = z.string().regex(
  /^[a-z0-9]{4,32}$/,
  "a client id is 4 to 32 lower-case letters or digits",
);
/** A UTC day, `YYYY-MM-DD`. */
export const daySchema = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "a day is YYYY-MM-DD").refine(
  (day) => !Number.isNaN(Date.parse(`${day}T00:00:00Z`)) && dayOf(dayStart(day)) === day,
  "not a real calendar day",
);

export type DocId =
  | { kind: "rules"; site: string }
  | { kind: "licences"; site: string }
  | { kind: "usage"; client: string; day: string }
  | { kind: "inventory"; client: string }
  | { kind: "summary"; site: string; day: string; shard: number }
  | { kind: "sites"; site: string }
  | { kind: "clients"; site: string; shard: number };

export const rulesDocId = (site: string) => `rules/${site}`;
export const licencesDocId = (site: string) => `licences/${site}`;
export const usageDocId = (client: string, day: string) => `usage/${client}/${day}`;
export const inventoryDocId = (client: string) => `inventory/${client}`;
export const sitesDocId = (site: string) => `sites/${site}`;
export const clientsDocId = (site: string, shard: number) => `clients/${site}/${shard}`;
export const summaryDocId = (site: string, day: string, shard: number) =>
  `summary/${site}/${day}/${shard}`;

/** Parses a document id, or returns `undefined` for anything malformed. */
export function parseDocId(id: string): DocId | undefined {
  const parts = id.split("/");
  const [kind] = parts;
  if (
    (kind === "rules" || kind === "sites" || kind === "licences") && parts.length === 2 &&
    siteCodeSchema.safeParse(parts[1]).success
  ) {
    return { kind, site: parts[1] };
  }
  if (kind === "usage" && parts.length === 3 && clientIdSchema.safeParse(parts[1]).success) {
    if (daySchema.safeParse(parts[2]).success) return { kind, client: parts[1], day: parts[2] };
  }
  if (kind === "inventory" && parts.length === 2 && clientIdSchema.safeParse(parts[1]).success) {
    return { kind, client: parts[1] };
  }
  if (kind === "clients" && parts.length === 3 && siteCodeSchema.safeParse(parts[1]).success) {
    const shard = Number(parts[2]);
    if (Number.isInteger(shard) && shard >= 0 && shard < 4096) {
      return { kind, site: parts[1], shard };
    }
  }
  if (kind === "summary" && parts.length === 4 && siteCodeSchema.safeParse(parts[1]).success) {
    const shard = Number(parts[3]);
    if (daySchema.safeParse(parts[2]).success && Number.isInteger(shard) && shard >= 0) {
      return { kind, site: parts[1], day: parts[2], shard };
    }
  }
  return undefined;
}

/** Zod schema for a well-formed document id. */
export const docIdSchema = z.string().max(120).refine(
  (id) => parseDocId(id) !== undefined,
  "not a Meter document id (rules/<site>, licences/<site>, usage/<client>/<day>, inventory/<client>, " +
    "summary/<site>/<day>/<shard>, sites/<site>, clients/<site>/<shard>)",
);

const DAY_MS = 86_400_000;

/** The UTC day of an instant, `YYYY-MM-DD`. */
export function dayOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Milliseconds since the epoch at 00:00 UTC of the day. */
export function dayStart(day: string): number {
  return Date.parse(`${day}T00:00:00Z`);
}

export { DAY_MS };
