/**
 * The records of a summary document, `summary/<site>/<day>/<shard>`: what a
 * site tells its parent about one UTC day of its own clients, each record one
 * CBOR tuple under a key that names its kind.
 *
 * | key | value | from |
 * | --- | --- | --- |
 * | `h/<rule>/<hourMs>` | `[pairs, users, computers, runs, runMs, peakSessions, peakSessionsAt, peakUsers, peakUsersAt, remoteRuns, remoteRunMs]` | `hourly_usage` |
 * | `d/<client>/<rule>/<user>` | `[runs, runMs, lastUseMs, remoteRuns, remoteRunMs]` | `daily_usage` |
 * | `c/<client>` | `[hostName, timeZone]` | `clients` |
 * | `l/<rule>/<localDate>/<localHour>[/<timeZone>]` | `[weekday, users]` | `local_hour_users` (the doc's day is the local date) |
 * | `p/<licence>` | `[windowFrom, installed, installedUsed, usedComputers, usedUsers, knownUsers]` | `licence_site_figures` (in the document of the day they were computed) |
 * | `k/<licence>` | `[at0, users0, at1, users1, ...]`, ms from the day's start | `licence_day_curves` |
 *
 * User names and time zones are URI-encoded in keys, so a `/` in one cannot
 * split a key. A local-hour key names its time zone unless it is UTC: keys
 * from before zones were kept have none and mean UTC, as they are read here,
 * so those records keep their keys.
 * Raw sessions never leave their site: these are the summaries reports are
 * made of, and the parent recomputes its monthly rows from the daily ones.
 *
 * @module
 */
import { encode } from "cbor-x";
import { z } from "zod";
import { decodeRecord } from "../../model/cbor_record.ts";

const count = z.number().int().min(0);
const instant = z.number().int().nullable();

export const hourTuple = z.tuple([
  count,
  count,
  count,
  count,
  count,
  count,
  instant,
  count,
  instant,
  count,
  count,
]);
export const dayTuple = z.tuple([count, count, z.number().int(), count, count]);
export const clientTuple = z.tuple([z.string().max(255), z.string().max(64)]);
export const localTuple = z.tuple([z.number().int().min(1).max(7), count]);
export const licenceFiguresTuple = z.tuple([z.number().int(), count, count, count, count, count]);
/** A day's curve: change points in time order, within the day. */
export const curvePoints = z.array(count).max(200_000).refine(
  (points) =>
    points.length % 2 === 0 &&
    points.every((v, i) => i % 2 === 1 || (v < 86_400_000 && (i === 0 || v > points[i - 2]))),
  "a curve is [at, users, ...] with times rising within the day",
);
/** The zone of a local-hour record when its key names none. */
const UNNAMED_ZONE = "UTC";

export type SummaryRecord =
  | { kind: "h"; ruleId: string; hourMs: number; values: z.infer<typeof hourTuple> }
  | { kind: "d"; clientId: string; ruleId: string; user: string; values: z.infer<typeof dayTuple> }
  | { kind: "c"; clientId: string; values: z.infer<typeof clientTuple> }
  | {
    kind: "l";
    ruleId: string;
    localDate: string;
    localHour: number;
    timeZone: string;
    values: z.infer<typeof localTuple>;
  }
  | { kind: "p"; licenceId: string; values: z.infer<typeof licenceFiguresTuple> }
  | { kind: "k"; licenceId: string; values: number[] };

export function summaryKey(record: SummaryRecord): string {
  switch (record.kind) {
    case "h":
      return `h/${record.ruleId}/${record.hourMs}`;
    case "d":
      return `d/${record.clientId}/${record.ruleId}/${encodeURIComponent(record.user)}`;
    case "c":
      return `c/${record.clientId}`;
    case "l": {
      const key = `l/${record.ruleId}/${record.localDate}/${record.localHour}`;
      return record.timeZone === UNNAMED_ZONE
        ? key
        : `${key}/${encodeURIComponent(record.timeZone)}`;
    }
    case "p":
    case "k":
      return `${record.kind}/${record.licenceId}`;
  }
}

export function encodeSummaryValue(record: SummaryRecord): Uint8Array {
  return encode(record.values);
}

const RULE = /^[A-Z0-9]{3}-\d{1,9}$/;
const CLIENT = /^[a-z0-9]{4,32}$/;
const LICENCE = /^[A-Z0-9]{3}-L\d{1,9}$/;

/** What a key names, without its value (for a deleted record). */
export type SummaryKey =
  | { kind: "h"; ruleId: string; hourMs: number }
  | { kind: "d"; clientId: string; ruleId: string; user: string }
  | { kind: "c"; clientId: string }
  | { kind: "l"; ruleId: string; localDate: string; localHour: number; timeZone: string }
  | { kind: "p" | "k"; licenceId: string };

/** Parses a record's key; throws naming it when it is malformed. */
export function parseSummaryKey(key: string): SummaryKey {
  const parts = key.split("/");
  const bad = () => new Error(`summary record ${key.slice(0, 80)} has a malformed key`);
  switch (parts[0]) {
    case "h": {
      const hourMs = Number(parts[2]);
      if (parts.length !== 3 || !RULE.test(parts[1]) || !Number.isInteger(hourMs)) throw bad();
      return { kind: "h", ruleId: parts[1], hourMs };
    }
    case "d": {
      if (parts.length !== 4 || !CLIENT.test(parts[1]) || !RULE.test(parts[2])) throw bad();
      let user: string;
      try {
        user = decodeURIComponent(parts[3]);
      } catch {
        throw bad();
      }
      return { kind: "d", clientId: parts[1], ruleId: parts[2], user };
    }
    case "c": {
      if (parts.length !== 2 || !CLIENT.test(parts[1])) throw bad();
      return { kind: "c", clientId: parts[1] };
    }
    case "l": {
      const localHour = Number(parts[3]);
      const dateOk = /^\d{4}-\d{2}-\d{2}$/.test(parts[2] ?? "");
      const hourOk = Number.isInteger(localHour) && localHour >= 0 && localHour < 24;
      const partsOk = parts.length === 4 || parts.length === 5;
      if (!partsOk || !RULE.test(parts[1]) || !dateOk || !hourOk) throw bad();
      const timeZone = parts.length === 4 ? UNNAMED_ZONE : decodeZone(parts[4]);
      if (timeZone === undefined) throw bad();
      return { kind: "l", ruleId: parts[1], localDate: parts[2], localHour, timeZone };
    }
    case "p":
    case "k": {
      if (parts.length !== 2 || !LICENCE.test(parts[1])) throw bad();
      return { kind: parts[0], licenceId: parts[1] };
    }
    default:
      throw bad();
  }
}

/** A time zone from a key: as a client's facts give it (at most 64 characters, IANA or not). */
function decodeZone(part: string): string | undefined {
  try {
    const zone = decodeURIComponent(part);
    return zone.length <= 64 ? zone : undefined;
  } catch {
    return undefined;
  }
}

/** Decodes a record by its key; throws naming it when key or value is malformed. */
export function decodeSummaryRecord(key: string, value: unknown): SummaryRecord {
  const parsed = parseSummaryKey(key);
  switch (parsed.kind) {
    case "h":
      return { ...parsed, values: decodeRecord(key, value, hourTuple) };
    case "d":
      return { ...parsed, values: decodeRecord(key, value, dayTuple) };
    case "c":
      return { ...parsed, values: decodeRecord(key, value, clientTuple) };
    case "l":
      return { ...parsed, values: decodeRecord(key, value, localTuple) };
    case "p":
      return {
        kind: "p",
        licenceId: parsed.licenceId,
        values: decodeRecord(key, value, licenceFiguresTuple),
      };
    case "k":
      return {
        kind: "k",
        licenceId: parsed.licenceId,
        values: decodeRecord(key, value, curvePoints),
      };
  }
}
