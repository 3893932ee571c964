/**
 * Waiting for the rules to change: `GET /v1/sync/wait?rules=<version>`, an
 * agent's long poll between syncs. Every sync answer of an agent's site
 * carries the version of the rules the agent follows (`rulesVersion`); the
 * agent then asks the site to answer when that version is gone. The site
 * holds the request until the rules change or `seconds` pass, or, when it
 * holds as many waits as it allows, answers at once and says when to ask
 * again. So an agent that syncs every five minutes still hears of a new
 * rule within a minute, at the cost of one held connection or one small
 * request a minute, never of a sync.
 *
 * @module
 */
import { z } from "zod";
import { errorFromResponse, SyncError } from "./sync_client.ts";
import { rulesVersionSchema } from "./sync_batch.ts";

/** The longest wait a site holds, and the longest an agent asks for. */
export const MAX_RULES_WAIT_SECONDS = 60;

export const rulesWaitQuerySchema = z.object({
  rules: rulesVersionSchema,
  seconds: z.coerce.number().int().min(0).max(MAX_RULES_WAIT_SECONDS).default(50),
}).strict();

export const rulesWaitReplySchema = z.object({
  /** The rules differ from the version asked about: sync now. */
  changed: z.boolean(),
  rulesVersion: rulesVersionSchema,
  /** When to ask again if nothing changed: 0 after a held wait, more when the site is full. */
  waitAgainAfter: z.number().int().min(0).max(3600),
}).strict();

export type RulesWaitReply = z.infer<typeof rulesWaitReplySchema>;

export interface RulesWaitOptions {
  /** The site's base URL. */
  site: string;
  authorization: string;
  rulesVersion: string;
  seconds: number;
  fetch?: typeof fetch;
  signal?: AbortSignal;
}

/** One wait; throws {@linkcode SyncError} (retryable when the site was away or busy). */
export async function waitForRules(o: RulesWaitOptions): Promise<RulesWaitReply> {
  const url = new URL("v1/sync/wait", o.site.endsWith("/") ? o.site : o.site + "/");
  url.searchParams.set("rules", o.rulesVersion);
  url.searchParams.set("seconds", String(o.seconds));
  // The site answers within `seconds`; a little more covers the way there and back.
  const timeout = AbortSignal.timeout((o.seconds + 15) * 1000);
  let response: Response;
  let bytes: Uint8Array;
  try {
    response = await (o.fetch ?? fetch)(url, {
      headers: { authorization: o.authorization, accept: "application/json" },
      signal: o.signal ? AbortSignal.any([o.signal, timeout]) : timeout,
    });
    bytes = new Uint8Array(await response.arrayBuffer());
  } catch (error) {
    throw new SyncError(`cannot reach ${url.origin}: ${(error as Error).message}`, undefined, true);
  }
  if (!response.ok) throw errorFromResponse(response, bytes);
  try {
    return rulesWaitReplySchema.parse(JSON.parse(new TextDecoder().decode(bytes)));
  } catch (error) {
    throw new SyncError(`bad answer to a rules wait: ${(error as Error).message}`, 200, true);
  }
}
